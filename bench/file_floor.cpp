// The floor under a restore of many small files: makes FILES_PER_DIR files of 1–8 KiB in each of
// DIRS directories under ROOT with the system calls a velin restore makes per file —
// openat(O_TMPFILE), write, flistxattr, futimens, linkat(AT_EMPTY_PATH), close — on THREADS
// threads (each its own directories), a syncfs every 0.3 s beside them and one at the end, and
// prints the wall time, this process's CPU time and the final syncfs's time. bench/README.md
// ("Ninth pass") compares it with `velin backup restore` of the same files.
//   velin_file_floor ROOT [THREADS=4] [DIRS=1000] [FILES_PER_DIR=1000]
// ROOT must not exist. AT_EMPTY_PATH needs root, or Linux 6.10 and later.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "cpu_seconds.hpp"

namespace {

[[noreturn]] void Die(const std::string& what) {
  std::perror(what.c_str());
  std::exit(1);
}

void MakeFiles(const std::string& root, int first_dir, int step, int dirs, int files) {
  const std::string data(8192, 'x');
  char names[256];
  for (int d = first_dir; d < dirs; d += step) {
    const std::string dir = root + "/d" + std::to_string(d);
    if (::mkdir(dir.c_str(), 0755) != 0) Die("mkdir " + dir);
    const int dfd = ::open(dir.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    if (dfd < 0) Die("open " + dir);
    for (int i = 0; i < files; ++i) {
      const int fd = ::openat(dfd, ".", O_WRONLY | O_TMPFILE | O_CLOEXEC, 0644);
      if (fd < 0) Die("openat O_TMPFILE in " + dir);
      const size_t size = 1024 + static_cast<size_t>(i) * 7 % 7168;
      if (::write(fd, data.data(), size) != static_cast<ssize_t>(size)) Die("write");
      if (::flistxattr(fd, names, sizeof names) < 0) Die("flistxattr");
      const timespec times[2] = {{0, UTIME_OMIT}, {1700000000, 0}};
      if (::futimens(fd, times) != 0) Die("futimens");
      const std::string name = "f" + std::to_string(i);
      if (::linkat(fd, "", dfd, name.c_str(), AT_EMPTY_PATH) != 0) Die("linkat " + name);
      ::close(fd);
    }
    ::close(dfd);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: velin_file_floor ROOT [THREADS] [DIRS] [FILES_PER_DIR]\n");
    return 2;
  }
  const std::string root = argv[1];
  const int threads = argc > 2 ? std::atoi(argv[2]) : 4;
  const int dirs = argc > 3 ? std::atoi(argv[3]) : 1000;
  const int files = argc > 4 ? std::atoi(argv[4]) : 1000;
  if (::mkdir(root.c_str(), 0755) != 0) Die("mkdir " + root);
  const int root_fd = ::open(root.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (root_fd < 0) Die("open " + root);
  const auto start = std::chrono::steady_clock::now();
  std::atomic<bool> done{false};
  std::thread flusher([&] {  // writeback started meanwhile, as the restore does
    for (int tick = 1; !done; ++tick) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      if (tick % 30 == 0) ::syncfs(root_fd);
    }
  });
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back(MakeFiles, root, t, threads, dirs, files);
  }
  for (auto& w : workers) w.join();
  done = true;
  flusher.join();
  const auto made = std::chrono::steady_clock::now();
  if (::syncfs(root_fd) != 0) Die("syncfs");
  const auto synced = std::chrono::steady_clock::now();
  auto seconds = [](auto a, auto b) { return std::chrono::duration<double>(b - a).count(); };
  std::printf("%d files: wall %.2f s (final syncfs %.2f s), cpu %.2f s\n", dirs * files,
              seconds(start, synced), seconds(made, synced), velin::bench::CpuSeconds());
  return 0;
}
