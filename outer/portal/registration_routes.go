package portal

// registrationRoutes are officer self-registration's and its review's.
func (p *Portal) registrationRoutes() {}
