// The metrics file (`monitor.metrics_file`): what a monitoring system scrapes to know that
// unattended backups still run. After each command, RecordRun() rewrites the file in the
// Prometheus text exposition format (version 0.0.4), e.g. for node_exporter's textfile
// collector. Guarantees:
//  - the file is replaced atomically and durably (io::WriteFileDurably): a scraper never sees
//    a torn file, a crash leaves the previous one;
//  - counters (runs, failures per kind) and the gauges of other commands survive across runs:
//    the previous file is read back, and only this command's series change;
//  - a previous file that cannot be parsed is replaced by a fresh one (a warning says so), so
//    a damaged file never stops monitoring for good.
// Metric names and meanings are listed in docs/operations.md ("Monitoring"). Two velin
// processes finishing in the same millisecond may lose one counter increment: there is no
// lock around the read-modify-write, by design (monitoring must never block a backup).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "velin/core/error.hpp"
#include "velin/core/reporter.hpp"
#include "velin/io/env.hpp"

namespace velin::monitor {

// What one command did, as the caller saw it.
struct RunOutcome {
  std::string command;  // "backup create", "backup verify", ...
  std::chrono::system_clock::time_point started;
  std::chrono::system_clock::time_point finished;
  std::optional<Error> error;  // nullopt: the command succeeded
  std::optional<uint64_t> bytes_added;
  std::optional<uint64_t> repository_size;
  // Files that changed while a backup read them, twice (backup create).
  std::optional<uint64_t> files_changed;
};

struct MetricsOptions {
  std::string metrics_file;  // absolute; "" disables metrics
};

// The kind of a failure as counted in velin_failures_total{kind=...}: "locked", "usage",
// "damage", "health", "cancelled", "no_space", "io", "permission", "network" or "failed".
std::string FailureKind(const Error& error);

// Rewrites the metrics file with this run accounted for. A no-op when no file is configured.
// Warnings (a damaged previous file) go to `reporter`; an error means the file could not be
// written, and callers should report it as a warning: monitoring never fails a backup.
Status RecordRun(io::Env& env, const MetricsOptions& options, const RunOutcome& outcome,
                 Reporter& reporter);

}  // namespace velin::monitor
