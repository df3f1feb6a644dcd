// velin config check: validates velin.toml and prints the resolved configuration.
#include <sys/stat.h>

#include <cerrno>

#include "backup_common.hpp"
#include "rollback_common.hpp"
#include "velin/backup/archiver.hpp"
#include "velin/cli/context.hpp"
#include "velin/config/describe.hpp"
#include "velin/core/environment.hpp"
#include "velin/core/i18n.hpp"
#include "velin/core/secret_file.hpp"
#include "velin/db/driver.hpp"
#include "velin/storage/remote_url.hpp"
#include "velin/storage/s3_backend.hpp"
#include "velin/storage/ssh_key.hpp"

namespace velin::cli {
namespace {

struct IncludeLink {
  std::string include;
  std::string path;    // relative to app.root
  std::string target;  // the link's text
};

// The symlinks on each include path (the include itself or a directory above it): a backup
// follows them and an in-place restore writes behind them (docs/operations.md).
std::vector<IncludeLink> IncludeLinks(io::Env& env, const config::Config& cfg) {
  std::vector<IncludeLink> links;
  for (const auto& include : cfg.backup.include) {
    if (config::IsDatabaseSource(include) || include.empty() || include[0] == '/') continue;
    for (size_t start = 0; start <= include.size();) {
      size_t slash = include.find('/', start);
      if (slash == std::string::npos) slash = include.size();
      std::string at = include.substr(0, slash);
      start = slash + 1;
      std::string abs = io::JoinPath(cfg.app.root, at);
      auto info = env.Stat(abs);
      if (!info) break;  // missing: backup create names it
      if (info->type != io::FileType::kSymlink) continue;
      auto text = env.ReadLink(abs);
      if (text) links.push_back({include, at, *text});
    }
  }
  return links;
}

// The include paths that do not exist (a typo, a NAS not mounted): valid TOML, but `backup
// create` cannot read them and fails, every run, until they exist. Each with the line of
// velin.toml that names it, when one does.
struct MissingInclude {
  std::string include;
  std::string path;  // absolute
  int line = 0;      // 0: not found in the file (an environment override)
};

// Whether `line` holds a TOML string (basic or literal) that is `include` in the spelling the
// loader gives includes ("./uploads/" is "uploads": backup::NormalizeInclude).
bool LineHoldsInclude(const std::string& line, const std::string& include) {
  for (size_t open = line.find_first_of("\"'"); open != std::string::npos;) {
    const size_t close = line.find(line[open], open + 1);
    if (close == std::string::npos) return false;
    const std::string item = line.substr(open + 1, close - open - 1);
    const std::string normal = backup::NormalizeInclude(item);
    if (item == include || (!normal.empty() && normal == include)) return true;
    open = line.find_first_of("\"'", close + 1);
  }
  return false;
}

// The first line after [backup] that holds `include` as a TOML string; 0 when none does.
int LineNaming(const std::string& text, const std::string& include) {
  bool in_backup = false;
  int number = 0;
  // A UTF-8 byte order mark (an editor on Windows writes one) is no part of the first line:
  // TOML allows it, and the loader skips it.
  const size_t bom = text.starts_with("\xEF\xBB\xBF") ? 3 : 0;
  for (size_t start = bom; start < text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(start, end - start);
    start = end + 1;
    ++number;
    const size_t first = line.find_first_not_of(" \t");
    if (first != std::string::npos && line[first] == '[') {
      in_backup = line.compare(first, 8, "[backup]") == 0;
      continue;
    }
    if (in_backup && LineHoldsInclude(line, include)) return number;
  }
  return 0;
}

std::vector<MissingInclude> MissingIncludes(io::Env& env, const config::Config& cfg) {
  std::vector<MissingInclude> missing;
  std::string text;
  if (!cfg.file.empty()) {
    if (auto read = env.ReadFile(cfg.file)) text = std::move(*read);
  }
  for (const auto& include : cfg.backup.include) {
    if (config::IsDatabaseSource(include) || include.empty()) continue;
    const std::string abs = include[0] == '/' ? include : io::JoinPath(cfg.app.root, include);
    auto info = env.Stat(abs);
    if (info || info.error().sys_errno != ENOENT) continue;
    missing.push_back({include, abs, LineNaming(text, include)});
  }
  return missing;
}

// The symlinks that a restore or a switch would refuse to follow: on a rollback artifact or
// config path, or on the SQLite database's path, one that another user made and that leads out
// of app.root (io::OpenDirBeneath). Said before the day of the restore.
struct RefusedLink {
  std::string key;    // "rollback.config 'config/app.yml'", "database.path"
  std::string error;  // the refusal, naming the link
};

std::vector<RefusedLink> RefusedLinks(io::Env& env, const config::Config& cfg) {
  std::vector<RefusedLink> refused;
  auto judge = [&](std::string key, const Error& e) {
    // Only a refusal (no errno): a missing path is named elsewhere, and one this user may not
    // read (config check run by another user than the commands) is no verdict.
    if (e.sys_errno != 0) return;
    refused.push_back({std::move(key), e.message});
  };
  for (const auto& [key, paths] : {std::pair{"rollback.artifacts", &cfg.rollback.artifacts},
                                   std::pair{"rollback.config", &cfg.rollback.config}}) {
    for (const std::string& rel : *paths) {
      const std::string up = io::Dirname(rel);
      auto dir = io::OpenDirBeneath(env, cfg.app.root, up == "." ? "" : up);
      if (!dir) judge(std::string(key) + " '" + rel + "'", dir.error());
    }
  }
  if (cfg.database.configured && cfg.database.driver == "sqlite" && !cfg.database.path.empty()) {
    auto found = db::LocateSqliteFile(cfg.app.root, cfg.database.path, false);
    if (!found) judge("database.path", found.error());
  }
  for (const auto& [name, d] : cfg.databases) {
    if (d.driver != "sqlite" || d.path.empty()) continue;
    auto found = db::LocateSqliteFile(cfg.app.root, d.path, false);
    if (!found) judge("databases." + name + ".path", found.error());
  }
  return refused;
}

// The repository passphrase as the commands read it, an error pointing at the key that says
// where it is (or at backup.encryption, which needs it, when none does). One from
// --password-file is not velin.toml's.
Status CheckPassphraseAt(Context& ctx, const config::Config& cfg) {
  const bool from_flag = !ctx.global.password_file.empty();
  if (!from_flag && cfg.backup.password_env.empty() && cfg.backup.password_file.empty()) {
    return config::KeyError(
        cfg, "backup", "encryption",
        TrFormat("key '{}' in [{}]: ", "encryption", "backup") +
            std::string(Tr("no repository passphrase: set backup.password_env or "
                           "backup.password_file")));
  }
  Status checked = CheckPassphraseSource(cfg);
  if (checked || from_flag) return checked;
  // The variable when it is set (it wins), else the file.
  const bool from_env =
      !cfg.backup.password_env.empty() &&
      (GetEnvironment(cfg.backup.password_env) || cfg.backup.password_file.empty());
  const char* key = from_env ? "password_env" : "password_file";
  return config::KeyError(cfg, "backup", key, checked.error().message);
}

// The secrets as the commands read them, not only the files' modes (the loader checks those):
// an empty passphrase file, a --password-file given here, an S3 credentials file that does
// not parse. A cron job must not fail on what a green check let pass. No secret is shown.
Status CheckSecretSources(Context& ctx, const config::Config& cfg) {
  if (!ctx.global.password_file.empty()) {
    auto read = ReadSecretFile(cfg.backup.password_file);
    if (!read) return UsageError(TrFormat("--password-file: {}", read.error().message));
  }
  if (cfg.backup.encryption != "none") VELIN_TRY(CheckPassphraseAt(ctx, cfg));
  // An SFTP key's passphrase: a variable not set, or a key that has one with none given.
  if (!cfg.sftp.key_file.empty()) {
    VELIN_TRY(storage::SftpKeyPassphrase(ctx.env(), cfg.sftp.key_file, cfg.sftp.key_passphrase_env,
                                         cfg.sftp.key_passphrase_file));
  }
  if (!cfg.s3.credentials_file.empty()) {
    auto credentials = storage::LoadS3Credentials(ctx.env(), cfg.s3.credentials_file);
    if (!credentials) {
      return config::KeyError(cfg, "storage.s3", "credentials_file",
                              TrFormat("key '{}' in [{}]: ", "credentials_file", "storage.s3") +
                                  credentials.error().message);
    }
  }
  return Ok();
}

// A password_env that names a variable not set here, with no password_file beside it: a try
// in a shell where it was exported by hand passed, and then every run of cron or systemd, which
// pass none of the shell's variables, failed with exit 2. A warning, not a refusal: the unit
// may set it (EnvironmentFile=). The repository's only when the repository is encrypted.
struct UnsetPasswordVariable {
  std::string key;       // "database.password_env"
  std::string variable;  // its value, the variable's name
  std::string file_key;  // "database.password_file"
  int line = 0;          // of the key in velin.toml; 0: not written there
};

std::vector<UnsetPasswordVariable> UnsetPasswordVariables(const config::Config& cfg) {
  std::vector<UnsetPasswordVariable> out;
  auto judge = [&](const std::string& section, const std::string& variable,
                   const std::string& file) {
    if (variable.empty() || !file.empty() || GetEnvironment(variable)) return;
    const std::string key = section + ".password_env";
    auto place = cfg.places.find(key);
    out.push_back(
        {key, variable, section + ".password_file",
         place != cfg.places.end() && place->second.env.empty() ? place->second.line : 0});
  };
  // --password-file cleared backup.password_env (Context::Config).
  if (cfg.backup.encryption != "none") {
    judge("backup", cfg.backup.password_env, cfg.backup.password_file);
  }
  if (cfg.database.configured) {
    judge("database", cfg.database.password_env, cfg.database.password_file);
  }
  for (const auto& [name, d] : cfg.databases) {
    judge("databases." + name, d.password_env, d.password_file);
  }
  return out;
}

// The URL keys whose path may hold a token (a healthchecks.io ping id, a Slack hook secret)
// written in velin.toml itself, when other users may read that file: they read the token too.
// A warning, not a refusal (a deploy user's 0644 velin.toml is common); ssh warns alike.
std::vector<std::string> TokensOthersMayRead(const config::Config& cfg) {
  std::vector<std::string> out;
  struct stat st {};
  if (cfg.file.empty() || ::stat(cfg.file.c_str(), &st) != 0) return out;
  if ((st.st_mode & (S_IRGRP | S_IROTH)) == 0) return out;
  struct UrlKey {
    const char* key;
    const char* variable;
    const std::string* value;
  };
  for (const auto& [key, variable, value] :
       {UrlKey{"monitor.ping_url", "VELIN_MONITOR_PING_URL", &cfg.monitor.ping_url},
        UrlKey{"notify.webhook_url", "VELIN_NOTIFY_WEBHOOK_URL", &cfg.notify.webhook_url}}) {
    auto place = cfg.places.find(key);
    const bool from_file = place != cfg.places.end() && place->second.line > 0;
    if (!value->empty() && from_file) {
      const std::string where = cfg.file + ":" + std::to_string(place->second.line);
      out.push_back(TrFormat(
          "{}: {} may hold a token, and {} is readable by other users (mode {:04o}): `chmod 600 "
          "{}`, or give the URL through the environment ({})",
          where, key, cfg.file, st.st_mode & 07777, cfg.file, variable));
    }
  }
  return out;
}

}  // namespace

void RegisterConfigCommands(CLI::App& app, Context& ctx) {
  CLI::App* group = AddCommand(app, "config", "Check the configuration");
  group->require_subcommand(1);
  CLI::App* check =
      AddCommand(*group, "check", "Validate velin.toml and print the resolved config");
  check->callback([&ctx] {
    ctx.Execute([&ctx]() -> Status {
      VELIN_ASSIGN(const config::Config* cfg, ctx.Config());
      // The commands run without their log then (a warning each time); under cron that log is
      // all there is to read afterwards, so the check fails on it.
      if (!ctx.log_problem().empty()) {
        return config::KeyError(*cfg, "log", "file",
                                TrFormat("key 'file' in [log]: {}", ctx.log_problem()));
      }
      // The check `backup create` makes when it opens the repository, made here too.
      for (const std::string* where : {&cfg->backup.destination, &cfg->backup.offsite}) {
        VELIN_TRY(
            storage::CheckCleartextTransport(*where, cfg->s3.endpoint, cfg->backup.allow_insecure));
        // And the URL as it parses it: the loader checked velin.toml's, not a --repo.
        VELIN_TRY(storage::CheckRemoteDestination(*where));
      }
      VELIN_TRY(CheckSecretSources(ctx, *cfg));
      // The check every version command makes before it starts: a path that holds the rollback
      // state copies it into each version (docs/rollback.md).
      if (!cfg->rollback.artifacts.empty() || !cfg->rollback.config.empty()) {
        VELIN_ASSIGN(auto engine, MakeRollbackEngine(ctx));
        VELIN_TRY(engine->CheckPathsLeaveOutTheState());
      }
      output::Console& out = ctx.out();
      std::vector<IncludeLink> links = IncludeLinks(ctx.env(), *cfg);
      const std::vector<MissingInclude> missing = MissingIncludes(ctx.env(), *cfg);
      const std::vector<RefusedLink> refused = RefusedLinks(ctx.env(), *cfg);
      for (const auto& r : refused) {
        out.Warn(TrFormat("{}: {}; a restore or switch refuses it", r.key, r.error));
      }
      for (const std::string& w : TokensOthersMayRead(*cfg)) out.Warn(w);
      const std::vector<UnsetPasswordVariable> unset = UnsetPasswordVariables(*cfg);
      for (const auto& u : unset) {
        const std::string where = u.line > 0 ? cfg->file + ":" + std::to_string(u.line) : cfg->file;
        out.Warn(TrFormat(
            "{}: {} names the environment variable {}, which is not set here; cron and systemd "
            "pass none of your shell's variables: for scheduled runs set it in the unit "
            "(EnvironmentFile=) or put the secret in a file only velin's user may read (chmod "
            "600) and name it in {}",
            where, u.key, u.variable, u.file_key));
      }
      for (const auto& m : missing) {
        const std::string where = m.line > 0 ? cfg->file + ":" + std::to_string(m.line) : cfg->file;
        out.Warn(TrFormat(
            "{}: backup.include '{}' does not exist ({}); every backup fails until it does", where,
            m.include, m.path));
      }
      if (out.json()) {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& l : links) {
          list.push_back({{"include", l.include}, {"path", l.path}, {"target", l.target}});
        }
        nlohmann::json absent = nlohmann::json::array();
        for (const auto& m : missing) {
          absent.push_back({{"include", m.include},
                            {"path", m.path},
                            {"line", m.line > 0 ? nlohmann::json(m.line) : nullptr}});
        }
        nlohmann::json refusals = nlohmann::json::array();
        for (const auto& r : refused) refusals.push_back({{"key", r.key}, {"error", r.error}});
        nlohmann::json unset_variables = nlohmann::json::array();
        for (const auto& u : unset) {
          unset_variables.push_back({{"key", u.key}, {"variable", u.variable}});
        }
        out.Json({{"file", cfg->file},
                  {"valid", true},
                  {"config", config::ConfigToJson(*cfg)},
                  {"include_links", list},
                  {"missing_includes", absent},
                  {"refused_links", refusals},
                  {"unset_password_variables", unset_variables}});
        return Ok();
      }
      out.Done(TrFormat("Configuration {} is valid", cfg->file));
      for (const auto& l : links) {
        out.Info(
            TrFormat("backup.include '{}': {} is a symlink to {}; backups follow it and an "
                     "in-place restore writes behind it",
                     l.include, l.path, l.target));
      }
      if (!ctx.global.quiet) {
        for (const auto& [key, value] : config::ConfigToLines(*cfg)) {
          out.Line(NoTr("  " + key + " = " + value));  // config keys and values
        }
      }
      return Ok();
    });
  });
}

}  // namespace velin::cli
