#include "velin/output/logging.hpp"

#include <fcntl.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "velin/core/i18n.hpp"
#include "velin/core/text_encoding.hpp"

namespace velin::output {
namespace {

std::shared_ptr<spdlog::sinks::sink> g_file_sink;

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
Status AddFileSink(const config::LogSection& log, std::vector<spdlog::sink_ptr>& sinks) {
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
    file_sink->set_level(spdlog::level::from_str(log.level));
    file_sink->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z [%P] %l: %v");
    sinks.push_back(file_sink);
    g_file_sink = file_sink;
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

Status SetupLogging(const config::LogSection& log, bool verbose, bool quiet) {
  std::vector<spdlog::sink_ptr> sinks{StderrSink(verbose, quiet)};
  g_file_sink.reset();
  Status file_status = Ok();
  if (!log.file.empty()) file_status = AddFileSink(log, sinks);
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
