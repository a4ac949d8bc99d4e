//go:build race

package child

// raceShadow scales the memory limit in race-detector builds (tests): its
// shadow maps several bytes for each byte of heap, and counts as data.
const raceShadow = 8
