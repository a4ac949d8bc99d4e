package i18n

import "time"

// Zone is the users' time zone, Korea Standard Time (no daylight saving):
// pages, files and reports show times in it, and a day or a month typed
// into a form is one in Korea.
var Zone = time.FixedZone("KST", 9*3600)
