// User + system CPU seconds of this process, for the benchmark tools that print their own.
#pragma once

#include <sys/resource.h>

namespace velin::bench {

inline double CpuSeconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

}  // namespace velin::bench
