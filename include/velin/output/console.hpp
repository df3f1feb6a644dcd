// What the user sees. One Console per invocation, in one of three modes:
//  - terminal: symbols (💾 ✓ 📋), colour unless NO_COLOR, a progress bar for long work;
//  - plain: stdout is not a terminal (cron, pipes): the same lines without symbols or colour;
//  - json: nothing on stdout but the one JSON document the command produces (Json()).
// Warnings and the final error go to stderr in every mode. Implements the engines' Reporter.
// Thread-safe: engines may report from worker threads.
#pragma once

#include <chrono>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "velin/core/error.hpp"
#include "velin/core/reporter.hpp"
#include "velin/core/time_text.hpp"
#include "velin/io/env.hpp"

namespace velin::output {

enum class Mode { kTerminal, kPlain, kJson };

struct ConsoleOptions {
  Mode mode = Mode::kPlain;
  bool color = false;
  bool quiet = false;
  bool verbose = false;
  // Whose SteadyNow times the progress bar (refresh, rate); nullptr: io::Env::Default(). A
  // test hands a MemEnv and moves the clock.
  io::Env* env = nullptr;
};

// Chooses the mode from --json, whether stdout is a terminal, NO_COLOR and TERM=dumb.
ConsoleOptions DetectConsoleOptions(bool json, bool quiet, bool verbose);

enum class Icon { kBackup, kRestore, kVerify, kList, kRollback, kConfig, kNone };

class Console : public Reporter {
 public:
  explicit Console(ConsoleOptions options, FILE* out = stdout, FILE* err = stderr);

  Mode mode() const { return options_.mode; }
  bool json() const { return options_.mode == Mode::kJson; }
  bool quiet() const { return options_.quiet; }

  // Reporter.
  void Begin(std::string_view message) override { Begin(Icon::kNone, message); }
  void Done(std::string_view message) override;
  void Warn(std::string_view message) override;
  void Info(std::string_view message) override;
  bool Symbols() const override { return options_.mode == Mode::kTerminal; }
  using Reporter::StartProgress;
  void StartProgress(std::string_view label, uint64_t total_bytes, ProgressItems items) override;
  void UpdateProgress(uint64_t done_bytes, uint64_t done_items) override;
  void EndProgress() override;
  void FinishProgress() override;

  // "💾 Creating backup..." on a terminal, "Creating backup..." plain, nothing in JSON.
  void Begin(Icon icon, std::string_view message);
  // A line of a listing or table (never shown in JSON mode, shown even when quiet).
  void Line(std::string_view text);
  // The command's JSON document (JSON mode only; ignored otherwise). At most one per run: a
  // second call is ignored, so stdout always holds exactly one document. It is printed by
  // Flush() (or Fail()), so that a command failing after it still prints one document.
  void Json(const nlohmann::json& document);
  // The final error: one line on stderr; in JSON mode also on stdout, as {"error": ...} in the
  // command's document when it made one (a create whose after_backup hook failed), else alone.
  void Fail(const Error& error);
  // The same, with another message for the JSON document: a usage error of the command line
  // is in the user's language on stderr and in English in the document (cli/context.cpp).
  void Fail(const Error& error, const std::string& json_message);
  // The same, with the exit code the document names when the process ends otherwise than by
  // the error's code: 128 + N when a held signal N ends it (core/termination.hpp).
  void Fail(const Error& error, const std::string& json_message, int exit_code);
  // Prints the JSON document, if one is waiting. Context::Execute calls it when the command
  // ends; the destructor too.
  void Flush();
  ~Console() override;
  // More members for the JSON document Fail() prints (a fleet command's per-host results),
  // so that a failed command still prints one document.
  void AttachToFailure(nlohmann::json fields);
  // The errno of the first write to `out` that failed (ENOSPC, EPIPE), 0 when none did.
  int output_errno();

 private:
  void ClearProgressLocked();
  void DrawProgressLocked(bool final);
  std::string Paint(std::string_view text, const char* ansi) const;

  ConsoleOptions options_;
  io::Env& env_;
  nlohmann::json failure_fields_ = nlohmann::json::object();
  void FlushLocked();
  void FlushOutLocked();
  int out_errno_ = 0;
  nlohmann::json json_pending_;  // the document Json() was given, until Flush()
  bool json_taken_ = false;      // Json() or Fail() made this run's document
  bool json_printed_ = false;
  FILE* out_;
  FILE* err_;
  std::mutex mu_;
  // Progress bar state.
  bool progress_active_ = false;
  bool progress_drawn_ = false;  // a frame is on the screen now
  bool progress_shown_ = false;  // a frame was drawn since StartProgress
  std::string progress_label_;
  uint64_t progress_total_ = 0;
  uint64_t progress_bytes_ = 0;  // the last update's figures, drawn or not
  uint64_t progress_items_ = 0;
  ProgressItems progress_counts_ = ProgressItems::kFiles;  // what progress_items_ counts
  std::chrono::steady_clock::time_point progress_start_;
  std::chrono::steady_clock::time_point progress_last_draw_;
};

// "1.5 GiB", "12 KiB", "512 B".
std::string FormatBytes(uint64_t bytes);

// Table columns: the columns a terminal shows for UTF-8 `text` (one per code point: "✓", "ü"),
// and `text` padded with spaces to `width` columns on the right (PadRight) or the left
// (PadLeft); longer text is returned as it is. A table's widths are the widest cell of each
// column, translated words and the header included.
size_t DisplayWidth(std::string_view text);
std::string PadRight(std::string_view text, size_t width);
std::string PadLeft(std::string_view text, size_t width);

// The times velin prints (docs/cli.md, "Times"): velin/core/time_text.hpp.
using velin::FormatLocalTime;
using velin::FormatUtcTime;
using velin::ParseUtcTime;

}  // namespace velin::output
