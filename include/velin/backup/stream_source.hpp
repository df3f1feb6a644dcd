// A source that is a byte stream rather than a directory: a database dump read from the dump
// tool's pipe. The archiver chunks the stream as it arrives (no temporary file), stores it in
// the snapshot under Name() with Metadata(), and commits no snapshot when Produce() fails.
// ReadStreamSource() gives the bytes back, every chunk checked against its hash.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "velin/core/error.hpp"
#include "velin/repo/repository.hpp"
#include "velin/repo/snapshot.hpp"

namespace velin::backup {

class StreamSource {
 public:
  virtual ~StreamSource() = default;
  // The source's name in the snapshot, e.g. "db". Unique within one backup.
  virtual std::string Name() const = 0;
  // Writes the whole stream into `sink`, once, in pieces of any size. A sink error must be
  // returned as is; any error fails the backup.
  virtual Status Produce(const std::function<Status(std::string_view)>& sink) = 0;
  // Stored in the snapshot under this source; called after Produce() succeeded.
  virtual nlohmann::json Metadata() const = 0;
  // What the backup says as warnings after Produce() succeeded (e.g. tables whose dump is not
  // one consistent state).
  virtual std::vector<std::string> Warnings() const { return {}; }
  // Absolute paths of live files this stream holds as one consistent copy, which a copy of the
  // files themselves would not be (an SQLite database and the -wal, -shm, -journal beside it):
  // the walk of backup.include leaves them out. Asked after Produce() succeeded.
  virtual std::vector<std::string> LiveFiles() const { return {}; }
};

// Streams the stored source `name` of `snapshot` into `sink`, chunk by chunk, verifying each
// chunk's hash first (a damaged chunk is a DamageError before any of its bytes reach `sink`).
// A snapshot without that stream source is a usage error.
Status ReadStreamSource(repo::Repository& repo, const repo::Snapshot& snapshot,
                        const std::string& name,
                        const std::function<Status(std::string_view)>& sink);

// The metadata stored for stream source `name` (nullptr when the snapshot has no such stream).
const nlohmann::json* StreamSourceMetadata(const repo::Snapshot& snapshot, const std::string& name);

}  // namespace velin::backup
