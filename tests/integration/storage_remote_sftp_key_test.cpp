// An SFTP key protected by a passphrase: without one given, velin says so in one line (exit 2)
// before it connects, instead of "login refused" for a key it never offered; with
// storage.sftp.key_passphrase_env or key_passphrase_file it logs in with it (OpenSSH's format
// and PEM alike).
#include <gtest/gtest.h>

#include "support/backup_fixture.hpp"
#include "support/remote_servers.hpp"

namespace velin::testing {
namespace {

constexpr const char* kSftpKeyPassphrase = "s3cret words";

// A key pair `dir`/`name` with kSftpKeyPassphrase; `extra` more ssh-keygen arguments.
std::string MakeKeyWithPassphrase(const TempDir& dir, const std::string& name,
                                  std::vector<std::string> extra) {
  std::vector<std::string> argv{"ssh-keygen", "-q", "-N", kSftpKeyPassphrase, "-f", dir / name};
  argv.insert(argv.end(), extra.begin(), extra.end());
  RunResult made = RunProgram(argv);
  EXPECT_EQ(made.exit_code, 0) << made.err;
  return dir / name;
}

std::string SftpKeyConfig(const SshServer& ssh, const std::string& key, const std::string& more) {
  return "[storage.sftp]\nkey_file = \"" + key + "\"\nknown_hosts = \"" + ssh.known_hosts() +
         "\"\n" + more;
}

TEST(StorageRemoteSftpKey, AKeyWithAPassphraseIsNamedAndOpensWithIt) {
  SshServer ssh;
  TempDir keys;
  const std::string openssh = MakeKeyWithPassphrase(keys, "openssh", {"-t", "ed25519"});
  const std::string pem = MakeKeyWithPassphrase(keys, "pem", {"-t", "ecdsa", "-m", "PEM"});
  ssh.AuthorizeKey(openssh + ".pub");
  ssh.AuthorizeKey(pem + ".pub");
  TempDir cache;
  RunOptions env;
  env.env["VELIN_CACHE_DIR"] = cache.path();
  const std::string url = ssh.Url(ssh.files_dir() + "/repo");

  for (const std::string& key : {openssh, pem}) {
    BackupApp none({"storage"}, SftpKeyConfig(ssh, key, ""));
    for (std::vector<std::string> args :
         {std::vector<std::string>{"backup", "list", "--destination", url}, {"config", "check"}}) {
      RunResult r = none.Run(args, env);
      EXPECT_EQ(r.exit_code, 2) << key << " " << args[0] << ": " << r.err;
      EXPECT_NE(r.err.find("storage.sftp.key_file " + key +
                           ": the key is protected by a passphrase and none is given"),
                std::string::npos)
          << key << " " << args[0] << ": " << r.err;
      EXPECT_EQ(r.err.find("refused"), std::string::npos) << r.err;
    }
  }

  // From the variable the config names; a variable not set is named.
  BackupApp by_env({"storage"},
                   SftpKeyConfig(ssh, openssh, "key_passphrase_env = \"SFTP_KEY_WORDS\"\n"));
  WriteFile(by_env.root() + "/storage/a.txt", "alpha\n");
  RunResult unset = by_env.Run({"backup", "create", "--destination", url}, env);
  EXPECT_EQ(unset.exit_code, 2) << unset.err;
  EXPECT_NE(unset.err.find("environment variable SFTP_KEY_WORDS is not set"), std::string::npos)
      << unset.err;
  RunOptions with_words = env;
  with_words.env["SFTP_KEY_WORDS"] = kSftpKeyPassphrase;
  RunResult made = by_env.Run({"backup", "create", "--destination", url}, with_words);
  EXPECT_EQ(made.exit_code, 0) << made.err;
  RunResult checked = by_env.Run({"config", "check"}, with_words);
  EXPECT_EQ(checked.exit_code, 0) << checked.err;
  EXPECT_EQ(checked.out.find(kSftpKeyPassphrase), std::string::npos) << checked.out;

  // From a file only its owner reads (one trailing newline is not part of it).
  const std::string words = keys / "words";
  WriteFile(words, std::string(kSftpKeyPassphrase) + "\n", 0600);
  BackupApp by_file({"storage"},
                    SftpKeyConfig(ssh, pem, "key_passphrase_file = \"" + words + "\"\n"));
  RunResult listed = by_file.Run({"backup", "list", "--destination", url}, env);
  EXPECT_EQ(listed.exit_code, 0) << listed.err;

  // In German too.
  BackupApp german({"storage"}, SftpKeyConfig(ssh, openssh, ""));
  RunOptions de = env;
  de.env["LANG"] = "de_DE.UTF-8";
  de.unset_env = {"LC_ALL", "LC_MESSAGES"};
  RunResult r = german.Run({"backup", "list", "--destination", url}, de);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("durch eine Passphrase geschützt"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace velin::testing
