package detect

/*
#cgo pkg-config: opencv4
#cgo CXXFLAGS: --std=c++11
#include "threads.h"
*/
import "C"

// OpenCV runs each call on one thread. Detection shares the machine with
// the encoder, which already keeps every core busy; OpenCV's own worker
// pool only added contention: when BlazeFace still ran in OpenCV's DNN
// module, one inference took 14.9 ms with the pool and 11.8 ms without,
// even on an idle machine (2 cores), and a 1080p masking run went from 75
// to 87 fps. ONNX Runtime, which runs it now, is held to one thread too.
func init() { C.sg_cv_set_threads(1) }
