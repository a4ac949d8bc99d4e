package render

// MosaicTile is mosaicTile, for the tests.
var MosaicTile = mosaicTile
