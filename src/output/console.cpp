#include "velin/output/console.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <vector>

#include "velin/core/environment.hpp"
#include "velin/core/i18n.hpp"
#include "velin/core/text_encoding.hpp"
#include "velin/output/logging.hpp"

namespace velin::output {
namespace {

constexpr const char* kGreen = "\033[32m";
constexpr const char* kYellow = "\033[33m";
constexpr const char* kRed = "\033[31m";
constexpr const char* kBold = "\033[1m";

// A string member that is not UTF-8 (a file name in Latin-1) is printed with U+FFFD for its
// invalid bytes; its object also gets KEY_base64 with the exact bytes, so a script can still
// name that file (docs/cli.md, --json).
void AddExactBytes(nlohmann::json& j) {
  if (j.is_array()) {
    for (auto& e : j) AddExactBytes(e);
    return;
  }
  if (!j.is_object()) return;
  std::vector<std::pair<std::string, std::string>> exact;
  for (auto& [key, value] : j.items()) {
    if (value.is_string()) {
      const auto& text = value.get_ref<const std::string&>();
      if (!IsUtf8(text)) exact.emplace_back(key + "_base64", Base64Encode(text));
    } else {
      AddExactBytes(value);
    }
  }
  for (auto& [key, value] : exact) {
    if (!j.contains(key)) j[key] = std::move(value);
  }
}

const char* IconText(Icon icon) {
  switch (icon) {
    case Icon::kBackup:
      return "💾 ";
    case Icon::kRestore:
      return "♻️  ";
    case Icon::kVerify:
      return "🔍 ";
    case Icon::kList:
      return "📋 ";
    case Icon::kRollback:
      return "⏪ ";
    case Icon::kConfig:
      return "⚙️  ";
    case Icon::kNone:
      break;
  }
  return "";
}

}  // namespace

ConsoleOptions DetectConsoleOptions(bool json, bool quiet, bool verbose) {
  ConsoleOptions o;
  o.quiet = quiet;
  o.verbose = verbose;
  if (json) {
    o.mode = Mode::kJson;
    return o;
  }
  bool dumb = GetEnvironment("TERM") == "dumb";
  o.mode = ::isatty(STDOUT_FILENO) && !dumb ? Mode::kTerminal : Mode::kPlain;
  o.color = o.mode == Mode::kTerminal && GetEnvironment("NO_COLOR").value_or("").empty();
  return o;
}

size_t DisplayWidth(std::string_view text) {
  size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

std::string PadRight(std::string_view text, size_t width) {
  std::string out(text);
  const size_t shown = DisplayWidth(text);
  if (shown < width) out.append(width - shown, ' ');
  return out;
}

std::string PadLeft(std::string_view text, size_t width) {
  const size_t shown = DisplayWidth(text);
  std::string out(shown < width ? width - shown : 0, ' ');
  return out.append(text);
}

std::string FormatBytes(uint64_t bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024.0 && unit < 5) {
    value /= 1024.0;
    ++unit;
  }
  if (unit == 0) return std::to_string(bytes) + " B";
  char buf[32];
  std::snprintf(buf, sizeof buf,
                value < 10    ? "%.2f %s"
                : value < 100 ? "%.1f %s"
                              : "%.0f %s",
                value, kUnits[unit]);
  return buf;
}

Console::Console(ConsoleOptions options, FILE* out, FILE* err)
    : options_(options),
      env_(options.env != nullptr ? *options.env : io::Env::Default()),
      out_(out),
      err_(err) {}

std::string Console::Paint(std::string_view text, const char* ansi) const {
  if (!options_.color) return std::string(text);
  return std::string(ansi) + std::string(text) + "\033[0m";
}

void Console::Begin(Icon icon, std::string_view message) {
  CheckShown(message);
  std::lock_guard lock(mu_);
  if (options_.mode == Mode::kJson || options_.quiet) return;
  ClearProgressLocked();
  if (options_.mode == Mode::kTerminal) {
    std::fprintf(out_, "%s%s\n", IconText(icon), Paint(OneLine(message), kBold).c_str());
  } else {
    std::fprintf(out_, "%s\n", OneLine(message).c_str());
  }
  FlushOutLocked();
}

void Console::Done(std::string_view message) {
  CheckShown(message);
  std::lock_guard lock(mu_);
  if (options_.mode == Mode::kJson || options_.quiet) return;
  ClearProgressLocked();
  if (options_.mode == Mode::kTerminal) {
    std::fprintf(out_, "%s %s\n", Paint("✓", kGreen).c_str(), OneLine(message).c_str());
  } else {
    std::fprintf(out_, "%s\n", OneLine(message).c_str());
  }
  FlushOutLocked();
}

void Console::Info(std::string_view message) {
  CheckShown(message);
  std::lock_guard lock(mu_);
  if (options_.mode == Mode::kJson || options_.quiet) return;
  ClearProgressLocked();
  std::fprintf(out_, "  %s\n", OneLine(message).c_str());
  FlushOutLocked();
}

void Console::Line(std::string_view text) {
  CheckShown(text);
  std::lock_guard lock(mu_);
  if (options_.mode == Mode::kJson) return;
  ClearProgressLocked();
  std::fprintf(out_, "%.*s\n", static_cast<int>(text.size()), text.data());
  FlushOutLocked();
}

void Console::Warn(std::string_view message) {
  CheckShown(message);
  {
    std::lock_guard lock(mu_);
    ClearProgressLocked();
    std::string prefix = std::string(Tr("warning")) + ": ";
    if (options_.color) prefix = Paint(prefix, kYellow);
    const std::string line = OneLine(message);
    std::fprintf(err_, "%s%s\n", prefix.c_str(), line.c_str());
    std::fflush(err_);
  }
  // Under cron nobody reads stderr: the log file is where a warning is found later. Without
  // mu_: a write that fails there warns through this Console (output/logging.hpp).
  LogWarningToFile(std::string(message));
}

void Console::Json(const nlohmann::json& document) {
  std::lock_guard lock(mu_);
  if (options_.mode != Mode::kJson || json_taken_) return;
  json_taken_ = true;
  json_pending_ = document;
}

void Console::FlushOutLocked() {
  // A write that failed (a full disk, a closed pipe) sets the stream's error flag; the first
  // such errno is kept for the line Run() prints at the end (cli/context.cpp).
  const bool failed = std::fflush(out_) != 0 || std::ferror(out_) != 0;
  if (failed && out_errno_ == 0) out_errno_ = errno != 0 ? errno : EIO;
}

int Console::output_errno() {
  std::lock_guard lock(mu_);
  return out_errno_;
}

void Console::Flush() {
  std::lock_guard lock(mu_);
  FlushLocked();
}

Console::~Console() { Flush(); }

void Console::FlushLocked() {
  if (!json_taken_ || json_printed_) return;
  json_printed_ = true;
  AddExactBytes(json_pending_);
  std::string text = DumpJson(json_pending_, 2);
  std::fprintf(out_, "%s\n", text.c_str());
  FlushOutLocked();
}

void Console::Fail(const Error& error) { Fail(error, error.message); }

void Console::Fail(const Error& error, const std::string& json_message) {
  Fail(error, json_message, static_cast<int>(error.code));
}

void Console::Fail(const Error& error, const std::string& json_message, int exit_code) {
  CheckShown(error.message);
  std::lock_guard lock(mu_);
  ClearProgressLocked();
  std::string prefix = std::string(Tr("error")) + ": ";
  if (options_.color && ::isatty(fileno(err_))) prefix = Paint(prefix, kRed);
  std::fprintf(err_, "%s%s\n", prefix.c_str(), OneLine(error.message).c_str());
  std::fflush(err_);
  if (options_.mode == Mode::kJson && !json_printed_) {
    // The command's own document when it made one, else what AttachToFailure gathered.
    nlohmann::json doc = json_taken_ && json_pending_.is_object() ? json_pending_ : failure_fields_;
    doc["error"] = {{"message", json_message}, {"exit_code", exit_code}};
    json_pending_ = std::move(doc);
    json_taken_ = true;
    FlushLocked();
  }
}

void Console::AttachToFailure(nlohmann::json fields) {
  std::lock_guard lock(mu_);
  for (auto& [key, value] : fields.items()) failure_fields_[key] = value;
}

void Console::StartProgress(std::string_view label, uint64_t total_bytes, ProgressItems items) {
  CheckShown(label);
  std::lock_guard lock(mu_);
  if (options_.mode != Mode::kTerminal || options_.quiet) return;
  progress_active_ = true;
  progress_drawn_ = false;
  progress_shown_ = false;
  progress_label_ = std::string(label);
  progress_total_ = total_bytes;
  progress_bytes_ = 0;
  progress_items_ = 0;
  progress_counts_ = items;
  progress_start_ = env_.SteadyNow();
  progress_last_draw_ = {};
}

void Console::UpdateProgress(uint64_t done_bytes, uint64_t done_items) {
  std::lock_guard lock(mu_);
  if (!progress_active_) return;
  progress_bytes_ = done_bytes;
  progress_items_ = done_items;
  auto now = env_.SteadyNow();
  if (now - progress_last_draw_ < std::chrono::milliseconds(100)) return;
  progress_last_draw_ = now;
  DrawProgressLocked(false);
}

// One frame: "Backing up [████░░] 42% 1.2 MiB/3.0 MiB  17 files  5.1 MiB/s" ("230 blobs" for
// verify and copy, which count blobs). Until a rate can
// be measured (the first 50 ms, or nothing done yet) the figures after the bytes say
// "starting…" instead of a meaningless "0 files  0 B/s". The final frame is the completed
// work: 100 % (the total may have been an estimate, e.g. the parent backup's size).
void Console::DrawProgressLocked(bool final) {
  const auto now = env_.SteadyNow();
  const double seconds = std::chrono::duration<double>(now - progress_start_).count();
  const bool measured = seconds > 0.05 && progress_bytes_ > 0;
  const uint64_t total = progress_total_;
  std::string line = progress_label_ + " ";
  if (total > 0) {
    double fraction =
        final ? 1.0
              : std::min(1.0, static_cast<double>(progress_bytes_) / static_cast<double>(total));
    constexpr int kWidth = 24;
    int filled = static_cast<int>(fraction * kWidth);
    line += "[";
    for (int i = 0; i < kWidth; ++i) line += i < filled ? "█" : "░";
    char pct[16];
    std::snprintf(pct, sizeof pct, "] %3d%% ", static_cast<int>(fraction * 100));
    line += pct;
    // The final frame shows what was done: the total was an estimate (the parent backup's
    // size, the whole backup for a partial restore).
    line += final ? FormatBytes(progress_bytes_)
                  : FormatBytes(progress_bytes_) + "/" + FormatBytes(total);
  } else {
    line += FormatBytes(progress_bytes_);
  }
  if (measured || final) {
    const uint64_t rate =
        seconds > 0.05 ? static_cast<uint64_t>(static_cast<double>(progress_bytes_) / seconds) : 0;
    line += "  " + (progress_counts_ == ProgressItems::kBlobs
                        ? TrCount(progress_items_, "{} blob", "{} blobs", progress_items_)
                        : TrCount(progress_items_, "{} file", "{} files", progress_items_));
    if (rate > 0) line += "  " + FormatBytes(rate) + "/s";
  } else {
    line += "  " + std::string(Tr("starting…"));
  }
  std::fprintf(out_, "\r\033[K%s", line.c_str());
  FlushOutLocked();
  progress_drawn_ = true;
  progress_shown_ = true;
}

void Console::EndProgress() {
  std::lock_guard lock(mu_);
  ClearProgressLocked();
  progress_active_ = false;
}

void Console::FinishProgress() {
  std::lock_guard lock(mu_);
  // Work that was over before a first frame was due leaves no bar behind.
  if (progress_active_ && progress_shown_) {
    DrawProgressLocked(true);
    std::fprintf(out_, "\n");
    FlushOutLocked();
    progress_drawn_ = false;  // the final frame stays on the screen
  }
  progress_active_ = false;
}

void Console::ClearProgressLocked() {
  if (progress_drawn_) {
    std::fprintf(out_, "\r\033[K");
    progress_drawn_ = false;
  }
}

}  // namespace velin::output
