// velin's standard streams, through the real binary: a closed stdout or stderr is never one of
// the files velin opens (a daemon or `>&-` may close them), and output that could not be
// written (a full disk, a reader that went away) fails the run instead of passing for a
// complete listing or JSON document.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "support/backup_fixture.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

RunOptions English(const std::string& cwd) {
  RunOptions o;
  o.cwd = cwd;
  o.env = {{"LANG", "C"}};
  return o;
}

// `velin args...` run by sh in `cwd` with the shell redirections `redirect` ("> /dev/full").
RunResult RunRedirected(const std::string& cwd, const std::string& args,
                        const std::string& redirect) {
  return RunProgram({"sh", "-c", "exec \"$0\" " + args + " " + redirect, VelinBinary()},
                    English(cwd));
}

// `velin args...` in `cwd` with stdout the write end of a pipe whose read end is already
// closed: every write there fails with EPIPE. Returns the exit code and stderr.
RunResult RunIntoClosedPipe(const std::string& cwd, const std::vector<std::string>& args) {
  int closed[2], err[2], none[2];
  if (::pipe2(closed, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0 ||
      ::pipe2(none, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2 failed";
    return {};
  }
  ::close(closed[0]);
  std::vector<std::string> argv_strings = {VelinBinary()};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_strings) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(closed[1], 1);
    ::dup2(err[1], 2);
    if (::chdir(cwd.c_str()) != 0) ::_exit(127);
    ::setenv("LANG", "C", 1);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(closed[1]);
  ::close(err[1]);
  ::close(none[1]);
  return CollectUntilExit(pid, none[0], err[0], 120);
}

TEST(StandardStreamsTest, AClosedStdoutOrStderrIsNeverAFileVelinOpens) {
  BackupApp app({"storage"});
  // The hook's shell is velin's child: it reads what velin's descriptors 1 and 2 are.
  const std::string seen = app.path("seen");
  WriteFile(app.path("velin.toml"), ReadFileOrDie(app.path("velin.toml")) +
                                        "[hooks]\nbefore_backup = \"readlink /proc/$PPID/fd/1 > " +
                                        seen + ".1; readlink /proc/$PPID/fd/2 > " + seen +
                                        ".2\"\n");
  for (int i = 0; i < 40; ++i) {
    WriteFile(app.root() + "/storage/d" + std::to_string(i % 4) + "/f" + std::to_string(i),
              RandomData(3000 + i, static_cast<unsigned>(i)));
  }
  RunResult create = RunRedirected(app.path(""), "backup create", ">&- 2>&-");
  ASSERT_EQ(create.exit_code, 0);
  EXPECT_EQ(ReadFileOrDie(seen + ".1"), "/dev/null\n");
  EXPECT_EQ(ReadFileOrDie(seen + ".2"), "/dev/null\n");

  // A restore with both closed writes every file whole, and nothing it printed into them.
  const std::string target = app.path("restored");
  RunResult restore =
      RunRedirected(app.path(""), "backup restore latest --target " + target, ">&- 2>&-");
  ASSERT_EQ(restore.exit_code, 0);
  EXPECT_EQ(DescribeTree(target + "/storage"), DescribeTree(app.root() + "/storage"));
  RunResult verify = app.Run({"backup", "verify", "--all"}, English(""));
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;

  // A closed stdin too: the in-place restore's question finds no terminal (exit 2, as always).
  RunResult asked = RunRedirected(app.path(""), "backup restore latest", "<&- >&-");
  EXPECT_EQ(asked.exit_code, 2) << asked.err;
  EXPECT_NE(asked.err.find("no terminal to ask; pass --yes"), std::string::npos) << asked.err;
}

TEST(StandardStreamsTest, OutputThatCannotBeWrittenFailsTheRun) {
  BackupApp app({"storage"}, "[log]\nfile = \"velin.log\"\n");
  WriteFile(app.root() + "/storage/a.txt", "a\n");
  const std::string dir = app.path("");

  // The backup is made; only its report is lost: exit 1, and the line says which.
  RunResult create = RunRedirected(dir, "backup create --json", "> /dev/full");
  EXPECT_EQ(create.exit_code, 1);
  EXPECT_EQ(create.err,
            "error: writing to stdout: No space left on device (the command itself succeeded; "
            "its output is incomplete)\n");
  nlohmann::json list = app.Json({"backup", "list"});
  ASSERT_EQ(list["backups"].size(), 1u) << list;
  EXPECT_NE(ReadFileOrDie(app.path("velin.log")).find("writing to stdout: No space left"),
            std::string::npos);

  for (const std::string& args : {std::string("backup list"), std::string("backup list --json"),
                                  std::string("backup ls latest")}) {
    RunResult full = RunRedirected(dir, args, "> /dev/full");
    EXPECT_EQ(full.exit_code, 1) << args;
    EXPECT_NE(full.err.find("error: writing to stdout: No space left on device"), std::string::npos)
        << args << ": " << full.err;
  }
  // Help goes to stdout too.
  RunResult help = RunRedirected(dir, "backup --help", "> /dev/full");
  EXPECT_EQ(help.exit_code, 1);
  EXPECT_EQ(help.err, "error: writing to stdout failed\n");

  // A command that failed keeps its own exit code and line; the stdout line follows it.
  RunResult missing = RunRedirected(dir, "backup ls nosuch --json", "> /dev/full");
  EXPECT_EQ(missing.exit_code, 2) << missing.err;
  EXPECT_NE(missing.err.find("error: no backup 'nosuch'"), std::string::npos) << missing.err;
  EXPECT_NE(missing.err.find("error: writing to stdout: No space left on device\n"),
            std::string::npos)
      << missing.err;

  // A reader that went away (`| head` after its lines): EPIPE, not a silent success.
  RunResult piped = RunIntoClosedPipe(dir, {"backup", "ls", "latest"});
  EXPECT_EQ(piped.exit_code, 1);
  EXPECT_EQ(piped.err,
            "error: writing to stdout: Broken pipe (the command itself succeeded; its output is "
            "incomplete)\n");

  // Output that got there: exit 0, nothing on stderr.
  RunResult fine = RunRedirected(dir, "backup list", "> /dev/null");
  EXPECT_EQ(fine.exit_code, 0);
  EXPECT_EQ(fine.err, "");
}

}  // namespace
}  // namespace velin::testing
