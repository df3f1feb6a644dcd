// Private to the db module: finding and running the databases' own dump/restore tools with
// their stdout streamed into a sink, or their stdin fed from a source, without a temp file and
// without a deadlock on stderr; and the pipe that carries a MariaDB password.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "velin/core/error.hpp"
#include "velin/core/process.hpp"
#include "velin/db/driver.hpp"

namespace velin::db::internal {

// The first of `names` found in `tool_dir` (when set) or else in PATH, as an absolute path.
// Error (not prefixed): "pg_dump not found in PATH (install postgresql-client)".
Result<std::string> FindTool(const std::vector<std::string>& names, const std::string& tool_dir,
                             const std::string& package_hint);

// The first line of `tool --version`.
Result<std::string> ToolVersionLine(const std::string& tool);

struct ChildOutcome {
  int exit_code = 0;     // 128 + signal when killed
  std::string messages;  // the tail of what the tool wrote on stderr (and stdout when fed)
};

// Runs `options` (stdout and stderr piped here), hands every chunk of its stdout to `sink`.
// When the sink fails, the tool's process group is killed and the sink's error returned.
Result<ChildOutcome> StreamToolOutput(ProcessOptions options, const ByteSink& sink);

// Runs `options`, writes everything `produce` hands its sink to the tool's stdin, collects its
// output. A producer error kills the tool and is returned; when the tool stops reading (it
// failed), the outcome carries its exit status and message.
// `idle`, when set, is called each kToolIdleCheck that nothing moves (the tool neither reads
// nor writes: it works, or waits for a lock); an error it returns kills the tool and is returned.
Result<ChildOutcome> FeedToolInput(ProcessOptions options, const ByteProducer& produce,
                                   const std::function<Status()>& idle = nullptr);
inline constexpr int kToolIdleCheckMs = 2000;
// How long a restore waits for a lock before it says who holds it.
inline constexpr std::chrono::seconds kLockNotice{5};

// When a restore that waits for a lock says so: once, after it has waited kLockNotice without a
// break (a wait that ends starts the clock again). Fed at each idle check of the restore tool.
class LockWaitNotice {
 public:
  // `waiting`: whether the restore waits for a lock now. True the one time to say it.
  bool Due(bool waiting) {
    if (told_ || !waiting) {
      since_.reset();
      return false;
    }
    const auto now = std::chrono::steady_clock::now();
    if (!since_) since_ = now;
    if (now - *since_ < kLockNotice) return false;
    told_ = true;
    return true;
  }
  bool Told() const { return told_; }

 private:
  std::optional<std::chrono::steady_clock::time_point> since_;
  bool told_ = false;
};

// The outcomes of FeedToolPipeline's two tools.
struct PipelineOutcome {
  ChildOutcome first;   // its stderr
  ChildOutcome second;  // its stdout and stderr
  // The lines `second` got before `tail` (head and the stream): psql's error line numbers
  // ("psql:<stdin>:N:") count them. 0 when the tail was not sent.
  uint64_t lines_before_tail = 0;
};

// `first | second`, with velin in the middle: `produce` feeds `first`'s stdin; `second`'s stdin
// gets `head`, then everything `first` writes on stdout, then `tail` once `first` has exited 0.
// `tail` reaches `second` only then: not when `first` fails or is killed, nor when velin dies
// (`second` sees its input end). So a `tail` that commits what `head` began is never sent after
// half a stream. A producer error or a signal (core/termination.hpp) kills both tools and is
// returned; a tool that stopped reading is in the outcomes.
//
// `strip_last`: a line of `first`'s output to leave out where it last appears, within its last
// kStripWindow bytes (pg_restore --single-transaction's own closing "COMMIT;", so that `tail`
// runs in the same transaction). A whole stream without it there is an error: nothing of its
// end nor `tail` is sent, and `second` sees its input end.
inline constexpr size_t kStripWindow = 8192;
Result<PipelineOutcome> FeedToolPipeline(ProcessOptions first, ProcessOptions second,
                                         const std::string& head, const ByteProducer& produce,
                                         const std::string& tail,
                                         const std::function<Status()>& idle = nullptr,
                                         const std::string& strip_last = "");

// "pg_dump failed (exit code 1): permission denied for table secret".
std::string DescribeToolFailure(const std::string& tool, const ChildOutcome& outcome);

// A MariaDB client option file holding only the password, handed to the tool as a pipe it
// inherits: the password never touches a disk, and nothing is left behind when velin is
// killed. Pass Argument() as the tool's FIRST argument and fd() in ProcessOptions::pass_fds;
// the pipe's read end is closed on destruction.
class SecretOptionPipe {
 public:
  static Result<SecretOptionPipe> Create(const std::string& password);
  SecretOptionPipe(SecretOptionPipe&& other) noexcept;
  SecretOptionPipe& operator=(SecretOptionPipe&&) = delete;
  SecretOptionPipe(const SecretOptionPipe&) = delete;
  ~SecretOptionPipe();
  int fd() const { return fd_; }
  std::string Argument() const { return "--defaults-extra-file=/dev/fd/" + std::to_string(fd_); }

 private:
  SecretOptionPipe() = default;
  int fd_ = -1;
};

// `text` with every occurrence of `secret` replaced by "***" (defence in depth for messages).
std::string Redact(std::string text, const std::string& secret);

}  // namespace velin::db::internal
