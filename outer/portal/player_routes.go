package portal

// playerRoutes are the browser player's and the license endpoint's.
func (p *Portal) playerRoutes() {}
