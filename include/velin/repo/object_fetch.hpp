// Reads many small objects of a remote repository (index objects, snapshots) several at a
// time, handing them out in order. One at a time, a command's start on a new machine cost a
// round trip per object: `backup list` of 300 backups on S3 20 ms away took 7.5 s
// (bench/README.md, "Twenty-first pass"). A local repository reads them one after the other,
// on the caller's thread, as before.
// REQUIRES: the backend takes Gets from several threads at once (every velin backend does);
// Next() from one thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "velin/core/error.hpp"
#include "velin/storage/backend.hpp"

namespace velin::repo {

class ObjectFetcher {
 public:
  struct Object {
    std::string name;
    uint64_t size = 0;  // as listed; 0 when unknown
  };
  // What is read ahead of Next() at most (an object larger than this is still read, alone).
  static constexpr uint64_t kAheadBytes = 16ULL << 20;

  ObjectFetcher(storage::Backend& backend, std::vector<Object> objects);
  ~ObjectFetcher();  // waits for the requests under way
  ObjectFetcher(const ObjectFetcher&) = delete;
  ObjectFetcher& operator=(const ObjectFetcher&) = delete;

  // The next object's bytes (or its Get's error), in the order given; one call per object.
  Result<std::string> Next();

 private:
  struct Slot {
    bool done = false;
    Result<std::string> data = std::string();
  };
  void Work();
  static uint64_t Cost(const Object& o);

  storage::Backend& backend_;
  std::vector<Object> objects_;
  std::vector<Slot> slots_;
  size_t next_ = 0;  // the next object Next() returns
  std::mutex mu_;
  std::condition_variable cv_;
  size_t claimed_ = 0;  // objects a worker took
  uint64_t ahead_ = 0;  // Cost of the objects claimed and not yet returned by Next()
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace velin::repo
