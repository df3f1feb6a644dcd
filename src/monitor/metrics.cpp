#include "velin/monitor/metrics.hpp"

#include <cerrno>
#include <vector>

#include "exposition.hpp"
#include "velin/core/i18n.hpp"

namespace velin::monitor {
namespace {

using Clock = std::chrono::system_clock;

constexpr std::string_view kRuns = "velin_runs_total";
constexpr std::string_view kFailures = "velin_failures_total";
constexpr std::string_view kLastRun = "velin_last_run_timestamp_seconds";
constexpr std::string_view kLastRunSuccess = "velin_last_run_success";
constexpr std::string_view kLastDuration = "velin_last_run_duration_seconds";
constexpr std::string_view kLastSuccess = "velin_last_success_timestamp_seconds";
constexpr std::string_view kAddedBytes = "velin_last_added_bytes";
constexpr std::string_view kRepositorySize = "velin_repository_size_bytes";
constexpr std::string_view kChangedFiles = "velin_last_changed_files";

// The families velin writes, in file order. docs/operations.md lists the same.
const std::vector<FamilyInfo>& Families() {
  static const std::vector<FamilyInfo> kFamilies = {
      {kRuns, "counter", "Runs of a velin command."},
      {kFailures, "counter", "Failed runs of a velin command, by kind of failure."},
      {kLastRun, "gauge", "When the last run of a command ended (Unix time)."},
      {kLastRunSuccess, "gauge", "1 when the last run of a command succeeded, 0 when it failed."},
      {kLastDuration, "gauge", "How long the last run of a command took."},
      {kLastSuccess, "gauge", "When the last successful run of a command ended (Unix time)."},
      {kAddedBytes, "gauge", "Bytes the last successful run of a command added to the repository."},
      {kRepositorySize, "gauge", "Size of the repository when it was last measured."},
      {kChangedFiles, "gauge",
       "Files the last successful backup found changing while it read them, twice."},
  };
  return kFamilies;
}

// Every kind FailureKind() returns; each gets a series (0 until it happens) so that rate()
// and alerts work before the first failure.
const std::vector<std::string>& FailureKinds() {
  static const std::vector<std::string> kKinds = {"locked",    "usage",    "damage", "health",
                                                  "cancelled", "no_space", "io",     "permission",
                                                  "network",   "failed"};
  return kKinds;
}

// Seconds with millisecond precision, so the file shows "1764036083.25", not binary noise.
double Seconds(Clock::duration d) {
  return static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) /
         1000.0;
}
double UnixSeconds(Clock::time_point tp) { return Seconds(tp.time_since_epoch()); }

bool IsKnownFamily(std::string_view name) {
  for (const FamilyInfo& f : Families()) {
    if (f.name == name) return true;
  }
  return false;
}

// Keeps only the families velin writes: the series this velin accounts.
SeriesMap KnownSeries(SeriesMap previous) {
  SeriesMap known;
  for (const FamilyInfo& f : Families()) {
    auto it = previous.find(std::string(f.name));
    if (it != previous.end()) known.emplace(it->first, std::move(it->second));
  }
  return known;
}

// The metric a line of the file is about: a sample's name, or the one a "# HELP" or "# TYPE"
// line names; "" for another comment or a blank line.
std::string_view MetricOfLine(std::string_view line) {
  if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) {
    line.remove_prefix(7);
  } else if (line.empty() || line.front() == '#') {
    return {};
  }
  return line.substr(0, line.find_first_of("{ \t"));
}

// The lines of the families another velin wrote (a later one's "velin_*" metrics this one does
// not know), verbatim and in their order: velin changes only the series of the command that ran
// (docs/operations.md), and a later velin's gauge that vanished whenever an older one ran would
// look like an outage to the monitoring. Lines of other programs' metrics are not kept: the
// file is velin's own (a textfile collector reads one file per producer).
std::string OtherVelinFamilies(std::string_view text) {
  std::string kept;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    const std::string_view metric = MetricOfLine(line);
    if (!metric.starts_with("velin_") || IsKnownFamily(metric)) continue;
    kept.append(line);
    kept += '\n';
  }
  return kept;
}

struct Previous {
  SeriesMap series;   // of the families this velin writes
  std::string other;  // OtherVelinFamilies
};

Result<Previous> LoadPrevious(io::Env& env, const std::string& path, Reporter& reporter) {
  VELIN_ASSIGN(bool exists, env.Exists(path));
  if (!exists) return Previous{};
  VELIN_ASSIGN(std::string text, env.ReadFile(path));
  auto parsed = ParseExposition(text);
  if (!parsed) {
    reporter.Warn(TrFormat("metrics file {} is damaged ({}); starting it afresh", path,
                           parsed.error().message));
    return Previous{};
  }
  return Previous{.series = KnownSeries(std::move(*parsed)), .other = OtherVelinFamilies(text)};
}

void Account(SeriesMap& series, const RunOutcome& run) {
  const Labels command = {{"command", run.command}};
  series[std::string(kRuns)][command] += 1;
  for (const std::string& kind : FailureKinds()) {
    series[std::string(kFailures)][{{"command", run.command}, {"kind", kind}}] += 0;
  }
  if (run.error) {
    series[std::string(kFailures)][{{"command", run.command}, {"kind", FailureKind(*run.error)}}] +=
        1;
  }
  const double finished = UnixSeconds(run.finished);
  series[std::string(kLastRun)][command] = finished;
  series[std::string(kLastRunSuccess)][command] = run.error ? 0 : 1;
  series[std::string(kLastDuration)][command] = Seconds(run.finished - run.started);
  if (!run.error) {
    series[std::string(kLastSuccess)][command] = finished;
    if (run.bytes_added) {
      series[std::string(kAddedBytes)][command] = static_cast<double>(*run.bytes_added);
    }
    if (run.files_changed) {
      series[std::string(kChangedFiles)][command] = static_cast<double>(*run.files_changed);
    }
  }
  if (run.repository_size) {
    series[std::string(kRepositorySize)][{}] = static_cast<double>(*run.repository_size);
  }
}

}  // namespace

std::string FailureKind(const Error& error) {
  switch (error.code) {
    case ExitCode::kLocked:
      return "locked";
    case ExitCode::kUsage:
      return "usage";
    case ExitCode::kDamage:
      return "damage";
    case ExitCode::kHealthFailed:
      return "health";
    case ExitCode::kCancelled:
      return "cancelled";
    case ExitCode::kOk:
    case ExitCode::kFailed:
      break;
  }
  switch (error.sys_errno) {
    case ENOSPC:
    case EDQUOT:
      return "no_space";
    case EIO:
      return "io";
    case EACCES:
    case EPERM:
    case EROFS:
      return "permission";
    case ECONNREFUSED:
    case ECONNRESET:
    case ETIMEDOUT:
    case EHOSTUNREACH:
    case ENETUNREACH:
      return "network";
    default:
      return "failed";
  }
}

Status RecordRun(io::Env& env, const MetricsOptions& options, const RunOutcome& outcome,
                 Reporter& reporter) {
  if (options.metrics_file.empty()) return Ok();
  const std::string& path = options.metrics_file;
  auto written = [&]() -> Status {
    VELIN_ASSIGN(Previous previous, LoadPrevious(env, path, reporter));
    Account(previous.series, outcome);
    VELIN_TRY(io::CreateDirs(env, io::Dirname(path)));
    return io::WriteFileDurably(
        env, path, WriteExposition(Families(), previous.series) + previous.other, 0644);
  }();
  if (!written) return tl::unexpected(written.error().Wrap(TrFormat("metrics file {}", path)));
  return Ok();
}

}  // namespace velin::monitor
