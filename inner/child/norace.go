//go:build !race

package child

// raceShadow scales the memory limit in race-detector builds only.
const raceShadow = 1
