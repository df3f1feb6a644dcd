// The help of every command, built from the finished command tree (include/velin/cli/help.hpp):
// value names, examples, the global flags in subcommand help, German texts, and usage errors
// that suggest the nearest valid word.
#include "velin/cli/help.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <sstream>

#include "velin/core/duration.hpp"
#include "velin/core/i18n.hpp"
#include "velin/repo/snapshot.hpp"

namespace velin::cli {
namespace {

// What the empty-value check answers: ParseErrorMessage turns it into velin's own line.
constexpr const char* kEmptyValue = "velin:empty-value";
// What a value check below answers, followed by the value: ParseErrorMessage asks ValueRefusal
// again for the line, in the language of that moment (--json: English).
constexpr const char* kRefusedValue = "velin:refused-value:";

// Why `value` is no value of the option `name` (its long name with the dashes), "" when it is
// one or the option has no such check. These values are checked while the command line is
// parsed, before the command runs: `backup create --lock-wait 5x` is a usage error that runs
// no before_backup hook, no on_backup_failure hook and sends no notification, as an unknown
// flag is (the command would refuse the value only once it opens the repository).
std::string ValueRefusal(const std::string& name, const std::string& value) {
  if (name == "--lock-wait" && !ParseDuration(value)) {
    return TrFormat("--lock-wait '{}' is not a duration (e.g. 30s; at most 36500d)", value);
  }
  if (name == "--strategy" && !repo::ParseStrategy(value)) {
    return TrFormat("--strategy '{}' must be full or incremental", value);
  }
  return "";
}

// Value names by option name (long name with its dashes, or a positional's name; a
// "command path:name" key wins over the plain name). An option not listed gets a name derived
// from its own (DerivedValueName).
const std::map<std::string, std::string>& ValueNames() {
  static const std::map<std::string, std::string> kNames = {
      {"--config", "FILE"},
      {"--destination", "DIR|URL"},
      {"--lock-wait", "DURATION"},
      {"--host", "HOST"},
      {"--app", "NAME"},
      {"--encryption", "aes-256-gcm|chacha20-poly1305|none"},
      {"--strategy", "full|incremental"},
      {"--to", "DIR|URL"},
      {"--target", "DIR"},
      {"--only", "PATH|db"},
      {"--database", "DATABASE"},
      {"--restore-test-server", "HOST[:PORT]"},
      {"--reason", "REASON"},
      {"--restore-data", "ID|at-version"},
      {"--timeout", "DURATION"},
      {"--new-password-env", "VAR"},
      {"--new-password-file", "FILE"},
      {"--transaction", "ID"},
      {"--lock-fd", "FD"},
      {"--ready-fd", "FD"},
      // Flags issue 21 brings (named here so that their help reads well from the start).
      {"--include", "GLOB"},
      {"--exclude", "GLOB"},
      {"--repo", "URL"},
      {"--database-url", "URL"},
      {"--password-env", "VAR"},
      {"--password-file", "FILE"},
      // Positionals.
      {"id", "ID"},
      {"name", "NAME|previous"},
      {"duration", "DURATION"},
      {"label", "\"NAME - description\""},
      {"shell", "bash|zsh|fish"},
      {"path", "PATH"},
      {"pattern", "GLOB"},
      {"backup key remove:id", "KEY-ID"},
  };
  return kNames;
}

// Words of value names that say which files a shell may complete, and the word a derived name
// ends in.
std::string DerivedValueName(const CLI::Option* opt) {
  const std::string type = opt->get_type_name();
  if (type == "INT" || type == "UINT" || type == "FLOAT" || type == "NUMBER") return "N";
  std::string name = opt->get_lnames().empty() ? opt->get_name() : opt->get_lnames().front();
  std::string last = name.substr(name.rfind('-') == std::string::npos ? 0 : name.rfind('-') + 1);
  static const std::map<std::string, std::string> kByLastWord = {
      {"url", "URL"},      {"dir", "DIR"},   {"file", "FILE"},     {"path", "PATH"},
      {"id", "ID"},        {"env", "VAR"},   {"wait", "DURATION"}, {"timeout", "DURATION"},
      {"age", "DURATION"}, {"glob", "GLOB"}, {"name", "NAME"},     {"host", "HOST"}};
  if (auto it = kByLastWord.find(last); it != kByLastWord.end()) return it->second;
  std::string upper;
  for (char c : name) upper += c == '-' ? '_' : static_cast<char>(std::toupper(c));
  return upper.empty() ? "VALUE" : upper;
}

// Examples by command path. Each line must parse (tests/unit/cli/help_test.cpp checks it
// against the tree); commands that are not there yet keep theirs until they arrive.
const std::map<std::string, std::vector<Example>>& ExampleTable() {
  static const std::map<std::string, std::vector<Example>> kExamples = {
      {"",
       {{"velin backup create", "Back up the application now"},
        {"velin rollback to-version previous", "Switch back to the version live before this one"},
        {"velin --json backup list", "List the backups as one JSON document"}}},
      {"backup",
       {{"velin backup create", "Back up the application now"},
        {"velin backup list", "List the backups"},
        {"velin backup restore latest --target /tmp/restore",
         "Restore the newest backup into another directory"}}},
      {"backup init",
       {{"velin backup init", "Create the repository backup.destination names"},
        {"velin backup init --destination s3://bucket/shop --encryption aes-256-gcm",
         "Create an encrypted repository in an S3 bucket"}}},
      {"backup create",
       {{"velin backup create", "Back up the application now"},
        {"velin backup create --strategy full --lock-wait 10m",
         "Read every file, waiting up to 10 minutes for a running velin"},
        {"velin backup create --continue-on-error",
         "Back up the files even when the database dump fails"}}},
      {"backup list",
       {{"velin backup list", "List the backups"},
        {"velin backup list --all --json", "List every host's and application's backups as JSON"},
        {"velin backup list --destination /mnt/offsite/shop",
         "List the backups of another repository"}}},
      {"backup restore",
       {{"velin backup restore latest --target /tmp/restore",
         "Restore the newest backup into another directory"},
        {"velin backup restore 3f2a9c --only storage/uploads --yes",
         "Put one directory back in place without asking"},
        {"velin backup restore latest --only db --database shop_check",
         "Restore the database into another database"}}},
      {"backup verify",
       {{"velin backup verify latest", "Check the newest backup"},
        {"velin backup verify --all", "Check every backup"},
        {"velin backup verify --restore-test latest",
         "Also restore the newest backup into a temporary place"}}},
      {"backup forget",
       {{"velin backup forget --dry-run", "Show which backups the retention rules let go"},
        {"velin backup forget", "Forget them"}}},
      {"backup prune",
       {{"velin backup prune --dry-run", "Show what would be removed"},
        {"velin backup prune --lock-wait 30m",
         "Remove unreferenced data, waiting up to 30 minutes for the lock"}}},
      {"backup status",
       {{"velin backup status", "Show the newest backup, the repository size and locks"},
        {"velin backup status --json", "The same as one JSON document (exit 1 when overdue)"}}},
      {"backup unlock",
       {{"velin backup unlock --stale", "Remove the locks of velins that are gone"},
        {"velin backup unlock", "Remove every lock"}}},
      {"backup upgrade",
       {{"velin backup upgrade", "Raise the configured repository to the current format"},
        {"velin backup upgrade --destination /mnt/offsite/shop",
         "Raise another repository to the current format"}}},
      {"backup copy",
       {{"velin backup copy latest --to s3://bucket/shop-offsite",
         "Copy the newest backup to another repository"},
        {"velin backup copy --all --to /mnt/offsite/shop", "Copy every backup"}}},
      {"backup key",
       {{"velin backup key list", "List the key objects"},
        {"velin backup key add --new-password-env NEW_PASSPHRASE",
         "Add a second passphrase, read from an environment variable"}}},
      {"backup key list",
       {{"velin backup key list", "List the key objects"},
        {"velin backup key list --destination s3://bucket/shop",
         "List the key objects of another repository"}}},
      {"backup key add",
       {{"velin backup key add --new-password-env NEW_PASSPHRASE",
         "Add a second passphrase, read from an environment variable"},
        {"velin backup key add --new-password-file /root/velin-key2",
         "Add a second passphrase, read from a file"}}},
      {"backup key remove",
       {{"velin backup key remove 5d1e", "Remove the key object whose id starts with 5d1e"},
        {"velin backup key remove 5d1e --destination s3://bucket/shop",
         "The same in another repository"}}},
      {"backup key passwd",
       {{"velin backup key passwd --new-password-env NEW_PASSPHRASE",
         "Replace the passphrase in use, the new one from an environment variable"},
        {"velin backup key passwd --new-password-file /root/velin-key2",
         "Replace the passphrase in use, the new one from a file"}}},
      {"backup ls",
       {{"velin backup ls latest", "List the files and database streams of the newest backup"},
        {"velin backup ls latest storage/uploads --long",
         "One directory, with modes, sizes and times"}}},
      {"backup find",
       {{"velin backup find '*.jpg'", "Which backups hold a file matching the pattern"},
        {"velin backup find 'storage/uploads/*' --all",
         "The same for every host and application"}}},
      {"backup diff",
       {{"velin backup diff 3f2a9c latest",
         "What changed between two backups (+ added, - removed, M content changed, U "
         "mode/owner/mtime only)"},
        {"velin backup diff 3f2a9c latest --json", "The same as one JSON document"}}},
      {"backup dump",
       {{"velin backup dump latest storage/uploads/a.jpg > a.jpg",
         "Write one file of the newest backup to stdout"},
        {"velin backup dump 3f2a9c storage/notes.txt | less", "Read one file of a backup"}}},
      {"backup stats",
       {{"velin backup stats", "Sizes, deduplication and compression of the repository"},
        {"velin backup stats latest --json", "The same for one backup, as JSON"}}},
      {"rollback",
       {{"velin rollback create-version \"v1.2.0 - Feature X\"",
         "Keep the built release as a version"},
        {"velin rollback to-version v1.2.0", "Switch to it"},
        {"velin rollback begin --timeout 10m",
         "Deploy in a transaction that rolls back by itself"}}},
      {"rollback create-version",
       {{"velin rollback create-version \"v1.2.0 - Feature X release\"",
         "Keep the configured artifacts as version v1.2.0"},
        {"velin rollback create-version \"v1.2.0 - rebuilt\" --replace",
         "Replace a version of the same name"}}},
      {"rollback create-snapshot",
       {{"velin rollback create-snapshot \"pre-upgrade - before the PHP upgrade\"",
         "Keep the artifacts and the config files"},
        {"velin rollback create-snapshot \"pre-upgrade - again\" --replace",
         "Replace a snapshot of the same name"}}},
      {"rollback list",
       {{"velin rollback list", "List the versions and snapshots, newest first"},
        {"velin rollback list --json", "The same as one JSON document"}}},
      {"rollback history",
       {{"velin rollback history", "Every switch and transaction outcome, oldest first"},
        {"velin rollback history --json", "The same as one JSON document"}}},
      {"rollback adopt",
       {{"velin rollback adopt", "Take over an application deployed as plain files"},
        {"velin rollback adopt \"v1.0.0 - as deployed by hand\"",
         "The same, naming the first snapshot"}}},
      {"rollback to-version",
       {{"velin rollback to-version v1.1.9 --reason \"checkout broken\"",
         "Switch to v1.1.9 and say why in the history"},
        {"velin rollback to-version previous --dry-run",
         "Show what switching back would do, change nothing"},
        {"velin rollback to-version v1.1.9 --restore-data at-version --yes",
         "Switch back and restore the database taken while v1.1.9 was live"}}},
      {"rollback begin",
       {{"velin rollback begin --timeout 10m --reason \"deploy v1.2.0\"",
         "Open a transaction that rolls back unless committed within 10 minutes"},
        {"velin rollback begin --backup", "Back up the database first"}}},
      {"rollback commit",
       {{"velin rollback commit", "Keep the deployed state"},
        {"velin rollback --fleet commit", "Commit on every host of [fleet]"}}},
      {"rollback rollback",
       {{"velin rollback rollback --reason \"errors after deploy\"",
         "Go back to the transaction's base now"},
        {"velin rollback rollback --restore-data --yes",
         "Also restore the database from the backup taken at begin"}}},
      {"rollback extend",
       {{"velin rollback extend 5m", "Give the open transaction 5 more minutes"},
        {"velin rollback extend 1h --json", "The same, with the new deadline as JSON"}}},
      {"rollback status",
       {{"velin rollback status", "Show the open transaction and its time left"},
        {"velin rollback --fleet status", "The same on every host of [fleet]"}}},
      {"rollback recover",
       {{"velin rollback recover", "Finish an interrupted switch or an expired transaction"},
        {"velin --config /srv/shop/velin.toml rollback recover",
         "The same at boot, for one application"}}},
      {"config",
       {{"velin config check", "Validate velin.toml and print what velin makes of it"},
        {"velin config check --config /srv/shop/velin.toml", "Check another config file"}}},
      {"config check",
       {{"velin config check", "Validate velin.toml and print what velin makes of it"},
        {"velin --json config check", "The resolved configuration as JSON"}}},
      {"completion",
       {{"velin completion bash > /etc/bash_completion.d/velin", "Install the bash completion"},
        {"velin completion zsh > /usr/local/share/zsh/site-functions/_velin",
         "Install the zsh completion"},
        {"velin completion fish > ~/.config/fish/completions/velin.fish",
         "Install the fish completion for yourself"}}},
  };
  return kExamples;
}

bool Hidden(const CLI::App* app) { return app->get_group().empty(); }

std::string Velin(const std::string& path) { return path.empty() ? "velin" : "velin " + path; }

// "-y, --yes" / "--lock-wait DURATION".
std::string OptionLabel(const CLI::Option* opt) {
  std::string names;
  for (const std::string& s : opt->get_snames()) names += (names.empty() ? "-" : ", -") + s;
  for (const std::string& l : opt->get_lnames()) names += (names.empty() ? "--" : ", --") + l;
  if (TakesValue(opt)) {
    names += " " + ValueName(opt);
    if (opt->get_expected_max() > 1) names += " ...";
  }
  return names;
}

// Appends "  left  text" lines: the text in a column, wrapped at 80 characters.
void AddRow(std::ostringstream& out, const std::string& left, const std::string& text) {
  constexpr size_t kColumn = 32, kWidth = 80;
  std::string line = "  " + left;
  if (line.size() + 2 > kColumn) {
    out << line << "\n";
    line.clear();
  }
  line.resize(kColumn, ' ');
  std::istringstream words(text);
  bool first = true;
  for (std::string word; words >> word;) {
    if (!first && line.size() + 1 + word.size() > kWidth) {
      out << line << "\n";
      line = std::string(kColumn, ' ');
      first = true;
    }
    line += (first ? "" : " ") + word;
    first = false;
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  out << line << "\n";
}

std::vector<const CLI::Option*> Positionals(const CLI::App* app) {
  std::vector<const CLI::Option*> out;
  for (const CLI::Option* opt : app->get_options()) {
    if (opt->get_positional() && !opt->get_group().empty()) out.push_back(opt);
  }
  return out;
}

std::string PositionalUsage(const CLI::Option* opt) {
  std::string name = ValueName(opt);
  if (opt->get_expected_max() > 1) name += "...";
  return opt->get_required() ? name : "[" + name + "]";
}

class HelpFormatter : public CLI::Formatter {
 public:
  std::string make_help(const CLI::App* app, std::string, CLI::AppFormatMode mode) const override {
    if (mode == CLI::AppFormatMode::Sub) return make_expanded(app);
    const std::string path = CommandPathOf(app);
    std::ostringstream out;
    if (!app->get_description().empty()) out << app->get_description() << "\n\n";
    out << Tr("Usage") << ": " << Velin(path);
    if (!VisibleOptions(app).empty()) out << " [" << Tr("OPTIONS") << "]";
    for (const CLI::Option* p : Positionals(app)) out << " " << PositionalUsage(p);
    if (!VisibleSubcommands(app).empty()) out << " " << Tr("COMMAND");
    out << "\n";
    if (auto pos = Positionals(app); !pos.empty()) {
      out << "\n" << Tr("Arguments") << ":\n";
      for (const CLI::Option* p : pos) AddRow(out, ValueName(p), p->get_description());
    }
    if (auto subs = VisibleSubcommands(app); !subs.empty()) {
      out << "\n" << Tr("Commands") << ":\n";
      for (const CLI::App* sub : subs) AddRow(out, sub->get_name(), sub->get_description());
    }
    if (auto opts = VisibleOptions(app); !opts.empty()) {
      out << "\n" << Tr("Options") << ":\n";
      for (const CLI::Option* o : opts) AddRow(out, OptionLabel(o), o->get_description());
    }
    // What the command inherits: the global flags, and a group's own flags (rollback --fleet).
    std::vector<const CLI::App*> ancestors;
    for (const CLI::App* a = app->get_parent(); a != nullptr; a = a->get_parent()) {
      ancestors.insert(ancestors.begin(), a);
    }
    for (const CLI::App* a : ancestors) {
      std::vector<const CLI::Option*> inherited;
      for (const CLI::Option* o : VisibleOptions(a)) {
        if (o != a->get_help_ptr() && o != a->get_version_ptr()) inherited.push_back(o);
      }
      if (inherited.empty()) continue;
      out << "\n"
          << (a->get_parent() == nullptr ? std::string(Tr("Global flags"))
                                         : TrFormat("Flags of '{}'", Velin(CommandPathOf(a))))
          << ":\n";
      for (const CLI::Option* o : inherited) AddRow(out, OptionLabel(o), o->get_description());
    }
    if (const auto& examples = ExamplesFor(path); !examples.empty()) {
      out << "\n" << Tr("Examples") << ":\n";
      for (const Example& e : examples) {
        out << "  # " << Tr(e.what) << "\n  " << e.line << "\n";
      }
    }
    if (!app->get_footer().empty()) out << "\n" << app->get_footer() << "\n";
    return out.str();
  }
};

size_t EditDistance(const std::string& a, const std::string& b) {
  // Optimal string alignment: insertions, deletions, substitutions, adjacent transpositions.
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::vector<std::string> SubcommandNames(const CLI::App* app) {
  std::vector<std::string> names;
  for (const CLI::App* sub : VisibleSubcommands(app)) names.push_back(sub->get_name());
  return names;
}

// The flag names a command accepts: its own and those of the groups above it.
// The flags `app` itself defines ("--dry-run", "-y"), without its parents'.
std::vector<std::string> OwnFlagNames(const CLI::App* app) {
  std::vector<std::string> names;
  for (const CLI::Option* o : VisibleOptions(app)) {
    for (const std::string& l : o->get_lnames()) names.push_back("--" + l);
    for (const std::string& s : o->get_snames()) names.push_back("-" + s);
  }
  return names;
}

std::vector<std::string> FlagNames(const CLI::App* app) {
  std::vector<std::string> names;
  for (const CLI::App* a = app; a != nullptr; a = a->get_parent()) {
    std::vector<std::string> own = OwnFlagNames(a);
    names.insert(names.end(), own.begin(), own.end());
  }
  return names;
}

// The command on the way to `at` whose own arguments `word` was left over in: a flag given
// before its command ("velin --dry-run backup forget") is left over in a parent of that command,
// which does not know it.
CLI::App* LeftOverIn(CLI::App* at, const std::string& word) {
  for (CLI::App* a = at; a != nullptr; a = a->get_parent()) {
    const std::vector<std::string> left = a->remaining(false);
    if (std::find(left.begin(), left.end(), word) != left.end()) return a;
  }
  return at;
}

// The command nearest below `above` on the way down to `at` that defines `flag`; nullptr when
// none does.
const CLI::App* DefinerBelow(const CLI::App* above, const CLI::App* at, const std::string& flag) {
  const CLI::App* found = nullptr;
  for (const CLI::App* a = at; a != nullptr && a != above; a = a->get_parent()) {
    const std::vector<std::string> own = OwnFlagNames(a);
    if (std::find(own.begin(), own.end(), flag) != own.end()) found = a;
  }
  return found;
}

// The innermost command parse() reached.
CLI::App* Deepest(CLI::App& root) {
  CLI::App* at = &root;
  for (bool deeper = true; deeper;) {
    deeper = false;
    for (CLI::App* sub : at->get_subcommands()) {
      if (sub->get_parent() == at) {
        at = sub;
        deeper = true;
        break;
      }
    }
  }
  return at;
}

}  // namespace

std::string CommandPathOf(const CLI::App* app) {
  std::string path;
  for (const CLI::App* a = app; a != nullptr && a->get_parent() != nullptr; a = a->get_parent()) {
    path = path.empty() ? a->get_name() : a->get_name() + " " + path;
  }
  return path;
}

const std::vector<Example>& ExamplesFor(const std::string& path) {
  static const std::vector<Example> kNone;
  auto it = ExampleTable().find(path);
  return it == ExampleTable().end() ? kNone : it->second;
}

std::string ValueName(const CLI::Option* option) { return option->get_type_name(); }

bool TakesValue(const CLI::Option* option) {
  return option->get_type_size() != 0 && option->get_expected_max() != 0;
}

std::vector<CLI::App*> VisibleSubcommands(const CLI::App* app) {
  std::vector<CLI::App*> out;
  for (CLI::App* sub : const_cast<CLI::App*>(app)->get_subcommands({})) {
    if (!Hidden(sub) && !sub->get_name().empty()) out.push_back(sub);
  }
  return out;
}

std::vector<const CLI::Option*> VisibleOptions(const CLI::App* app) {
  std::vector<const CLI::Option*> out;
  for (const CLI::Option* opt : app->get_options()) {
    if (!opt->get_positional() && !opt->get_group().empty()) out.push_back(opt);
  }
  return out;
}

std::string Nearest(const std::string& word, const std::vector<std::string>& candidates) {
  auto bare = [](const std::string& s) {
    return s.substr(std::min(s.find_first_not_of('-'), s.size()));
  };
  const std::string w = bare(word);
  if (w.size() < 2) return "";  // one letter is near every short flag: no guess
  const size_t limit = std::max<size_t>(1, (w.size() + 1) / 3);
  std::string best;
  size_t best_distance = limit + 1;
  for (const std::string& c : candidates) {
    const std::string b = bare(c);
    size_t d = EditDistance(w, b);
    // A word that starts a longer name ("cr" for "create") is as near as a typo.
    if (d > limit && b.size() > w.size() && b.compare(0, w.size(), w) == 0 && w.size() >= 2) {
      d = limit;
    }
    if (d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

void FinishCommandTree(CLI::App& root) {
  auto formatter = std::make_shared<HelpFormatter>();
  std::vector<CLI::App*> stack = {&root};
  while (!stack.empty()) {
    CLI::App* app = stack.back();
    stack.pop_back();
    app->formatter(formatter);
    const std::string path = CommandPathOf(app);
    if (!app->get_description().empty()) {
      app->description(std::string(Tr(app->get_description())));
    }
    for (CLI::Option* opt : app->get_options({})) {
      if (opt == app->get_help_ptr()) opt->description("Show this help");
      if (!opt->get_description().empty()) {
        opt->description(std::string(Tr(opt->get_description())));
      }
      if (!TakesValue(opt)) continue;  // a flag: no value to name
      // An empty value is refused rather than taken as "not given": `--target "$DIR"` with DIR
      // unset would otherwise restore in place, `--only ""` everything, `--destination ""`
      // into the configured repository. Free text (--reason) may be empty, and `--app ''`
      // selects the backups of older velins, which recorded no application (docs/cli.md).
      if (const auto& l = opt->get_lnames();
          l != std::vector<std::string>{"reason"} && l != std::vector<std::string>{"app"}) {
        opt->check(CLI::Validator(
            [](std::string& value) { return value.empty() ? std::string(kEmptyValue) : ""; }, "",
            "non-empty"));
      }
      if (!opt->get_lnames().empty()) {
        opt->check(CLI::Validator(
            [name = "--" + opt->get_lnames().front()](std::string& value) {
              if (value.empty() || ValueRefusal(name, value).empty()) return std::string();
              return kRefusedValue + value;
            },
            "", "valid"));
      }
      const std::string name =
          opt->get_lnames().empty() ? opt->get_name() : "--" + opt->get_lnames().front();
      const auto& names = ValueNames();
      auto it = names.find(path + ":" + name);
      if (it == names.end()) it = names.find(name);
      opt->type_name(it != names.end() ? it->second : DerivedValueName(opt));
    }
    for (CLI::App* sub : app->get_subcommands({})) stack.push_back(sub);
  }
}

namespace {
// The option an ArgumentMismatch says was given more than once ("--config: At Most 1 required
// but received 2"), "" for the other mismatches (a value missing).
std::string RepeatedOption(const std::string& what) {
  const size_t marker = what.find(": At Most ");
  return marker == std::string::npos ? "" : what.substr(0, marker);
}
}  // namespace

std::string ParseErrorMessage(CLI::App& root, const CLI::ParseError& error) {
  CLI::App* at = Deepest(root);
  const std::string at_path = Velin(CommandPathOf(at));
  std::vector<std::string> extras = root.remaining(true);
  if (!extras.empty()) {
    const std::string& word = extras.front();
    if (word.size() > 1 && word[0] == '-') {
      const std::string flag = word.substr(0, word.find('='));
      // The command's own flag, given before the command: no typo to suggest a fix for (the
      // nearest name was the flag itself), only its place.
      if (const CLI::App* definer = DefinerBelow(LeftOverIn(at, word), at, flag)) {
        return TrFormat("'{}' is a flag of '{}': put it after '{}'", flag,
                        Velin(CommandPathOf(definer)), definer->get_name());
      }
      std::string near = Nearest(flag, FlagNames(at));
      if (!near.empty() && near != flag) {
        return TrFormat("unknown flag '{}' for '{}' (did you mean '{}'?)", flag, at_path, near);
      }
      return TrFormat("unknown flag '{}' for '{}' (see '{} --help')", flag, at_path, at_path);
    }
    if (std::vector<std::string> names = SubcommandNames(at); !names.empty()) {
      std::string near = Nearest(word, names);
      if (!near.empty()) {
        return TrFormat("unknown command '{} {}' (did you mean '{}'?)", at_path, word, near);
      }
      return TrFormat("unknown command '{} {}' (the commands of '{}' are: {})", at_path, word,
                      at_path, Join(names));
    }
    return TrFormat("unexpected argument '{}' for '{}' (see '{} --help')", word, at_path, at_path);
  }
  const std::string what = error.what();
  const std::string kind = error.get_name();
  if (kind == "RequiredError") {
    if (!SubcommandNames(at).empty() &&
        (what.rfind("A subcommand", 0) == 0 || what.find("subcommand") != std::string::npos)) {
      return TrFormat("'{}' needs a command: {}", at_path, Join(SubcommandNames(at)));
    }
    const std::string name = what.substr(0, what.find(" is required"));
    for (const CLI::Option* opt : at->get_options()) {
      if (opt->get_name() == name || opt->check_name(name)) {
        return TrFormat("'{}' needs {} (see '{} --help')", at_path,
                        opt->get_positional() ? ValueName(opt) : OptionLabel(opt), at_path);
      }
    }
  }
  if (kind == "ArgumentMismatch" && !RepeatedOption(what).empty()) {
    return TrFormat("{} was given more than once: give it once", RepeatedOption(what));
  }
  if (kind == "ArgumentMismatch") {
    const std::string name = what.substr(0, what.find(':'));
    for (const CLI::App* a = at; a != nullptr; a = a->get_parent()) {
      for (const CLI::Option* opt : a->get_options()) {
        if (opt->get_name() == name || (opt->get_positional() && opt->get_name() == name)) {
          return TrFormat("{} needs a value ({})", name, ValueName(opt));
        }
        for (const std::string& l : opt->get_lnames()) {
          if ("--" + l == name) return TrFormat("{} needs a value ({})", name, ValueName(opt));
        }
      }
    }
  }
  if (kind == "ValidationError" && what.size() > std::strlen(kEmptyValue) &&
      what.ends_with(kEmptyValue)) {
    const std::string name = what.substr(0, what.find(':'));
    for (const CLI::App* a = at; a != nullptr; a = a->get_parent()) {
      for (const CLI::Option* opt : a->get_options()) {
        if (opt->get_name() != name) continue;
        const std::string label = opt->get_positional() ? ValueName(opt) : name;
        return TrFormat("{} is empty (an unset variable?): give a value or leave it out", label);
      }
    }
    return TrFormat("{} is empty (an unset variable?): give a value or leave it out", name);
  }
  if (kind == "ValidationError") {
    if (const size_t marker = what.find(kRefusedValue); marker != std::string::npos) {
      const std::string refusal = ValueRefusal(what.substr(0, what.find(':')),
                                               what.substr(marker + std::strlen(kRefusedValue)));
      if (!refusal.empty()) return refusal;
    }
  }
  if (kind == "ExcludesError") {
    if (size_t sep = what.find(" excludes "); sep != std::string::npos) {
      return TrFormat("{} and {} cannot be given together: give one of them (see '{} --help')",
                      what.substr(0, sep), what.substr(sep + 10), at_path);
    }
  }
  if (kind == "ConversionError") {
    if (size_t at_flag = what.find(": too many inputs for a flag"); at_flag != std::string::npos) {
      return TrFormat("{} takes no value", what.substr(0, at_flag));
    }
    const std::string prefix = "Could not convert: ";
    if (what.rfind(prefix, 0) == 0 && what.find(" = ") != std::string::npos) {
      const size_t eq = what.find(" = ");
      return TrFormat("'{}' is not a valid value for {}", what.substr(eq + 3),
                      what.substr(prefix.size(), eq - prefix.size()));
    }
  }
  return TrFormat("invalid command line: {} (see '{} --help')", NoTr(what), at_path);
}

std::string CheckExample(const CLI::App& root, const std::string& line) {
  // Shell words: quotes group and go.
  std::vector<std::string> words;
  std::string cur;
  bool in_word = false;
  char quote = 0;
  for (char c : line) {
    if (quote != 0) {
      if (c == quote) {
        quote = 0;
      } else {
        cur += c;
      }
    } else if (c == '"' || c == '\'') {
      quote = c;
      in_word = true;
    } else if (c == ' ') {
      if (in_word) words.push_back(cur);
      cur.clear();
      in_word = false;
    } else {
      cur += c;
      in_word = true;
    }
  }
  if (in_word) words.push_back(cur);
  if (quote != 0) return "an unclosed quote";
  if (words.empty() || words[0] != "velin") return "does not start with velin";
  const CLI::App* at = &root;
  size_t positionals = 0;
  for (size_t i = 1; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (w == ">" || w == "|" || w == ";" || w == "&&" || w == "<") break;
    if (w.size() > 1 && w[0] == '-') {
      const std::string flag = w.substr(0, w.find('='));
      const CLI::Option* found = nullptr;
      for (const CLI::App* a = at; a != nullptr && found == nullptr; a = a->get_parent()) {
        for (const CLI::Option* o : VisibleOptions(a)) {
          if (o->check_name(flag)) found = o;
        }
      }
      if (found == nullptr) return "no flag " + flag + " for " + Velin(CommandPathOf(at));
      if (TakesValue(found) && w.find('=') == std::string::npos) {
        if (i + 1 >= words.size()) return flag + " without its value";
        ++i;
      }
      continue;
    }
    const CLI::App* sub = nullptr;
    for (const CLI::App* s : VisibleSubcommands(at)) {
      if (s->get_name() == w) sub = s;
    }
    if (sub != nullptr && positionals == 0) {
      at = sub;
      continue;
    }
    std::vector<const CLI::Option*> pos = Positionals(at);
    if (positionals >= pos.size() && !(pos.size() > 0 && pos.back()->get_expected_max() > 1)) {
      return "unexpected argument '" + w + "' for " + Velin(CommandPathOf(at));
    }
    ++positionals;
  }
  if (!VisibleSubcommands(at).empty()) return Velin(CommandPathOf(at)) + " needs a command";
  std::vector<const CLI::Option*> pos = Positionals(at);
  for (size_t k = positionals; k < pos.size(); ++k) {
    if (pos[k]->get_required()) return "missing " + ValueName(pos[k]);
  }
  return "";
}

}  // namespace velin::cli
