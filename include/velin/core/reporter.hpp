// How an engine tells the user what it does, without printing. The output module implements
// it for a terminal (symbols, colour, progress bar), for plain lines (cron) and for --json
// (nothing on stdout but the final document). Engines only ever see this interface.
#pragma once

#include <cstdint>
#include <string_view>

namespace velin {

// What a progress's done_items count: the progress line names it ("17 files", "230 blobs").
// Backup and restore count files; verify and copy count blobs (the chunks and trees they read).
enum class ProgressItems { kFiles, kBlobs };

class Reporter {
 public:
  virtual ~Reporter() = default;

  // A piece of work starts: "💾 Creating backup...".
  virtual void Begin(std::string_view message) = 0;
  // A step succeeded: "✓ Database backup created".
  virtual void Done(std::string_view message) = 0;
  // Something the user should know that is not an error.
  virtual void Warn(std::string_view message) = 0;
  // A detail line, shown unless quiet.
  virtual void Info(std::string_view message) = 0;
  // Whether a message may hold symbols ("v1 → v2"): on a terminal only; plain lines (a pipe,
  // cron, a log) and JSON get ASCII ("v1 -> v2"). See ArrowOf().
  virtual bool Symbols() const { return false; }

  // Long work: a progress bar on a terminal, nothing elsewhere. total 0 = unknown. `items` is
  // what UpdateProgress's done_items count; the two-argument form counts files.
  virtual void StartProgress(std::string_view label, uint64_t total_bytes, ProgressItems items) = 0;
  void StartProgress(std::string_view label, uint64_t total_bytes) {
    StartProgress(label, total_bytes, ProgressItems::kFiles);
  }
  virtual void UpdateProgress(uint64_t done_bytes, uint64_t done_items) = 0;
  virtual void EndProgress() = 0;
  // The work behind the progress completed: a terminal's bar shows its final frame at 100 %
  // before it ends. EndProgress alone (an error path) just removes the bar.
  virtual void FinishProgress() { EndProgress(); }
};

// "→" where the reporter shows symbols, "->" elsewhere.
inline const char* ArrowOf(const Reporter& reporter) { return reporter.Symbols() ? "→" : "->"; }

// A Reporter that says nothing (tests, nested work).
class NullReporter : public Reporter {
 public:
  void Begin(std::string_view) override {}
  void Done(std::string_view) override {}
  void Warn(std::string_view) override {}
  void Info(std::string_view) override {}
  using Reporter::StartProgress;
  void StartProgress(std::string_view, uint64_t, ProgressItems) override {}
  void UpdateProgress(uint64_t, uint64_t) override {}
  void EndProgress() override {}
};

}  // namespace velin
