#include <opencv2/core.hpp>

#include "threads.h"

extern "C" void sg_cv_set_threads(int n) { cv::setNumThreads(n); }
