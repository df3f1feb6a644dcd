#include "velin/output/logging.hpp"

#include <fcntl.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "velin/core/i18n.hpp"
#include "velin/core/text_encoding.hpp"

namespace velin::output {
namespace {

std::shared_ptr<spdlog::sinks::sink> g_file_sink;

// [log] file, let go at its first write that fails: a full disk (ENOSPC), a quota, a file past
// the size limit. Left to spdlog, each failure printed its own "[*** LOG ERROR #0001 ***] …
// {Failed flush to file …}" line (at most one a second, so on some runs only) and the log went
// on, torn. Here the command is told once, in velin's words, and logs to stderr only from then
// on (docs/config.md, [log]); what fails no command.
class DetachingFileSink final : public spdlog::sinks::sink {
 public:
  DetachingFileSink(std::string path, std::shared_ptr<spdlog::sinks::sink> file,
                    std::function<void(const std::string&)> warn)
      : path_(std::move(path)), file_(std::move(file)), warn_(std::move(warn)) {}

  void log(const spdlog::details::log_msg& msg) override {
    Guarded([&] { file_->log(msg); });
  }
  void flush() override {
    Guarded([&] { file_->flush(); });
  }
  void set_pattern(const std::string& pattern) override { file_->set_pattern(pattern); }
  void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override {
    file_->set_formatter(std::move(formatter));
  }

 private:
  template <typename Write>
  void Guarded(Write&& write) {
    if (detached_.load(std::memory_order_acquire)) return;
    try {
      write();
    } catch (const spdlog::spdlog_ex& e) {
      const int err = errno;  // spdlog's: the failed write's, flush's or rename's
      if (detached_.exchange(true)) return;
      const std::string why = err != 0 ? std::string(Tr(std::strerror(err))) : e.what();
      const std::string line = TrFormat("{}; logging to stderr only",
                                        TrFormat("cannot write log file {}: {}", path_, why));
      if (warn_) {
        warn_(line);
      } else {
        std::fprintf(stderr, "%s: %s\n", std::string(Tr("warning")).c_str(), line.c_str());
      }
    }
  }

  const std::string path_;
  const std::shared_ptr<spdlog::sinks::sink> file_;
  const std::function<void(const std::string&)> warn_;
  std::atomic<bool> detached_{false};
};

std::shared_ptr<spdlog::sinks::sink> StderrSink(bool verbose, bool quiet) {
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  sink->set_level(verbose ? spdlog::level::debug
                  : quiet ? spdlog::level::err
                          : spdlog::level::warn);
  sink->set_pattern(verbose ? "%H:%M:%S.%e %^%l%$: %v" : "%^%l%$: %v");
  return sink;
}

// Opens [log] file as spdlog's rotating sink and adds it to `sinks`. A file that cannot be
// opened (a directory, a root-owned 0600 log when run as another user) is a failure naming it
// and why, in the words of open(2), tried first for that reason; the caller goes on without it.
Status AddFileSink(const config::LogSection& log, std::vector<spdlog::sink_ptr>& sinks,
                   std::function<void(const std::string&)> warn) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(log.file).parent_path(), ec);
  const int probe = ::open(log.file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (probe < 0) {
    const int err = errno;
    return Failure(TrFormat("cannot open log file {}: {}", log.file, Tr(std::strerror(err))));
  }
  ::close(probe);
  // The log names paths, hosts and databases: only its owner reads it. Created 0600 before
  // spdlog opens it (on start and after each rotation), and an older 0644 log is narrowed.
  spdlog::file_event_handlers private_file;
  private_file.before_open = [](const spdlog::filename_t& name) {
    int fd = ::open(name.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd >= 0) ::close(fd);
  };
  private_file.after_open = [](const spdlog::filename_t&, std::FILE* file) {
    (void)::fchmod(::fileno(file), 0600);
  };
  try {
    auto file_sink = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
        log.file, static_cast<size_t>(log.max_size_mb) * 1024 * 1024,
        static_cast<size_t>(log.max_files), false, private_file);
    auto guarded = std::make_shared<DetachingFileSink>(log.file, file_sink, std::move(warn));
    guarded->set_level(spdlog::level::from_str(log.level));
    guarded->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z [%P] %l: %v");
    sinks.push_back(guarded);
    g_file_sink = guarded;
  } catch (const spdlog::spdlog_ex& e) {
    return Failure(TrFormat("cannot open log file {}: {}", log.file, e.what()));
  }
  return Ok();
}

}  // namespace

void SetupEarlyLogging(bool verbose, bool quiet) {
  auto logger = std::make_shared<spdlog::logger>("velin", StderrSink(verbose, quiet));
  logger->set_level(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

Status SetupLogging(const config::LogSection& log, bool verbose, bool quiet,
                    std::function<void(const std::string&)> warn) {
  std::vector<spdlog::sink_ptr> sinks{StderrSink(verbose, quiet)};
  g_file_sink.reset();
  Status file_status = Ok();
  if (!log.file.empty()) file_status = AddFileSink(log, sinks, std::move(warn));
  auto logger = std::make_shared<spdlog::logger>("velin", sinks.begin(), sinks.end());
  logger->set_level(spdlog::level::trace);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  return file_status;
}

void LogErrorToFile(const std::string& message) {
  if (!g_file_sink) return;
  spdlog::logger file_only("velin", g_file_sink);
  file_only.error("{}", OneLine(message));
  file_only.flush();
}

void LogWarningToFile(const std::string& message) {
  if (!g_file_sink) return;
  spdlog::logger file_only("velin", g_file_sink);
  file_only.warn("{}", OneLine(message));
  file_only.flush();
}

}  // namespace velin::output
