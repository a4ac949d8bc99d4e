package license

// Results lists the result label's values (tests).
var Results = results
