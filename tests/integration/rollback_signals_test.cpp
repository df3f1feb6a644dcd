// SIGINT, SIGTERM and SIGHUP during a switch (docs/rollback.md, "Ctrl-C, SIGTERM, a dropped SSH
// session"): velin finishes the switch — forward, or back when the target fails — reports it,
// and then ends by the signal. Before the switch records its intent, and when velin inherited
// the signal as ignored, the old rules hold. The real binary, signalled while one of its
// commands (stop, start, health, a hook) waits at a gate the test opens.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/background_velin.hpp"
#include "support/rollback_app.hpp"

namespace velin::testing {
namespace {

// gate.sh NAME: marks NAME reached; waits while NAME.hold exists until NAME.go does; fails when
// NAME.fail exists.
constexpr const char* kGate =
    "#!/bin/sh\n"
    "d=$(dirname \"$0\")/gates\n"
    "touch \"$d/$1.reached\"\n"
    "if [ -f \"$d/$1.hold\" ]; then\n"
    "  while [ ! -f \"$d/$1.go\" ]; do sleep 0.02; done\n"
    "fi\n"
    "[ ! -f \"$d/$1.fail\" ]\n";

// A toy app whose stop, start and health (per version) and before_switch pass through gates.
class GatedApp {
 public:
  GatedApp() : app_(Options()) {
    WriteFile(app_.root() + "/gate.sh", kGate, 0755);
    std::filesystem::create_directories(gates());
    for (const char* v : {"v1", "v2"}) {
      app_.Build(v);
      RunResult r = app_.Velin({"rollback", "create-version", v});
      EXPECT_EQ(r.exit_code, 0) << r.err;
    }
    RunResult r = app_.Velin({"rollback", "to-version", "v1"});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    std::filesystem::remove_all(gates());
    std::filesystem::create_directories(gates());
  }

  ToyApp& app() { return app_; }
  std::string gates() const { return app_.root() + "/gates"; }
  void Hold(const std::string& gate) { WriteFile(gates() + "/" + gate + ".hold", ""); }
  void Fail(const std::string& gate) { WriteFile(gates() + "/" + gate + ".fail", ""); }
  void Open(const std::string& gate) { WriteFile(gates() + "/" + gate + ".go", ""); }
  bool Reached(const std::string& gate) const {
    return std::filesystem::exists(gates() + "/" + gate + ".reached");
  }
  // Waits (up to 60 s) until a command reached `gate`.
  bool WaitFor(const std::string& gate) const {
    return WaitForPath(gates() + "/" + gate + ".reached");
  }

  nlohmann::json Json(const std::vector<std::string>& args) {
    std::vector<std::string> full{"--json"};
    full.insert(full.end(), args.begin(), args.end());
    return nlohmann::json::parse(app_.Velin(full).out);
  }

 private:
  static ToyAppOptions Options() {
    ToyAppOptions o = NoService();
    o.health_timeout = "1s";
    o.extra_rollback =
        "stop = \"sh ../gate.sh stop\"\n"
        "start = \"sh ../gate.sh start\"\n"
        "health = \"sh ../gate.sh health-$(cat current/bin/VERSION)\"\n"
        "\n[hooks]\nbefore_switch = \"sh ../gate.sh before\"\n";
    return o;
  }

  ToyApp app_;
};

// velin with `args` on `app`, in the background.
BackgroundVelin Start(ToyApp& app, std::vector<std::string> args, int ignored = 0,
                      std::map<std::string, std::string> env = {}) {
  args.insert(args.begin(), {"--config", app.config()});
  RunOptions options;
  options.cwd = app.root();
  options.env = std::move(env);
  return BackgroundVelin(args, options, ignored);
}

const char* Name(int sig) {
  return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "SIGHUP";
}

nlohmann::json LastSwitch(GatedApp& g) {
  auto doc = g.Json({"rollback", "history"});
  return doc["history"].back();
}

// `rollback to-version v2`, signalled with `sig` while its command waits at `gate`. velin must
// still be there a moment later (held); then the gate opens and its result comes back.
RunResult SwitchSignalledAt(GatedApp& g, const std::string& gate, int sig, const std::string& c) {
  g.Hold(gate);
  BackgroundVelin velin = Start(g.app(), {"rollback", "to-version", "v2"});
  EXPECT_TRUE(g.WaitFor(gate)) << c;
  velin.Signal(sig);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(velin.Running()) << c;
  g.Open(gate);
  return velin.Finish();
}

void ExpectNoInterruptedSwitch(GatedApp& g, const std::string& c) {
  auto status = g.Json({"rollback", "status"});
  EXPECT_FALSE(status.contains("interrupted_switch")) << c << ": " << status.dump();
}

// Every signal at every step of a switch that goes through: the switch ends on v2, healthy,
// recorded once, no interrupted switch left; then velin ends by the signal.
TEST(RollbackSignalsTest, ASignalAtAnyStepOfASwitchWaitsForItsEnd) {
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    for (const char* gate : {"stop", "start", "health-v2"}) {
      const std::string c = std::string(Name(sig)) + " at " + gate;
      GatedApp g;
      RunResult r = SwitchSignalledAt(g, gate, sig, c);
      EXPECT_EQ(r.exit_code, 128 + sig) << c << ": " << r.out << r.err;
      EXPECT_NE(r.err.find(std::string("warning: ") + Name(sig) +
                           " received: the switch to v2 finishes first, then velin stops"),
                std::string::npos)
          << c << ": " << r.err;
      EXPECT_NE(r.out.find("Switched to v2"), std::string::npos) << c << ": " << r.out;
      EXPECT_EQ(g.app().Current(), "v2") << c;
      ExpectNoInterruptedSwitch(g, c);
      auto last = LastSwitch(g);
      EXPECT_EQ(last["to"], "v2") << c;
      EXPECT_EQ(last["outcome"], "switched") << c;
      EXPECT_TRUE(g.Reached("health-v2")) << c;
    }
  }
}

// The target fails its health check and a signal arrives while velin switches back: the switch
// back still ends on v1, healthy (what exit 5 would have said), and velin ends by the signal.
TEST(RollbackSignalsTest, ASignalDuringTheSwitchBackWaitsForIt) {
  for (int sig : {SIGINT, SIGTERM}) {
    for (const char* gate : {"health-v2", "health-v1"}) {
      const std::string c = std::string(Name(sig)) + " at " + gate;
      GatedApp g;
      g.Fail("health-v2");
      RunResult r = SwitchSignalledAt(g, gate, sig, c);
      EXPECT_EQ(r.exit_code, 128 + sig) << c << ": " << r.out << r.err;
      EXPECT_NE(r.err.find("switched back to v1 (healthy)"), std::string::npos)
          << c << ": " << r.err;
      EXPECT_EQ(g.app().Current(), "v1") << c;
      EXPECT_TRUE(g.Reached("health-v1")) << c;
      ExpectNoInterruptedSwitch(g, c);
      auto last = LastSwitch(g);
      EXPECT_EQ(last["to"], "v2") << c;
      EXPECT_EQ(last["outcome"], "health check failed; switched back to v1 (healthy)") << c;
    }
  }
}

// The line is the user's language (the German catalogue has it).
TEST(RollbackSignalsTest, TheLineIsInTheUsersLanguage) {
  GatedApp g;
  g.Hold("start");
  BackgroundVelin velin = Start(g.app(), {"rollback", "to-version", "v2"}, 0,
                                {{"LANG", "de_DE.UTF-8"}, {"LC_ALL", ""}, {"LC_MESSAGES", ""}});
  ASSERT_TRUE(g.WaitFor("start"));
  velin.Signal(SIGTERM);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  g.Open("start");
  RunResult r = velin.Finish();
  EXPECT_EQ(r.exit_code, 128 + SIGTERM) << r.out << r.err;
  EXPECT_NE(r.err.find("Warnung: SIGTERM empfangen: erst wird der Wechsel zu v2 abgeschlossen, "
                       "dann beendet sich velin"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(g.app().Current(), "v2");
}

// Before the switch records its intent (its before_switch hook) nothing is held: velin ends at
// once, nothing was stopped or changed, nothing is left to recover.
TEST(RollbackSignalsTest, BeforeTheSwitchStartsASignalEndsVelinAtOnce) {
  GatedApp g;
  g.Hold("before");
  BackgroundVelin velin = Start(g.app(), {"rollback", "to-version", "v2"});
  ASSERT_TRUE(g.WaitFor("before"));
  velin.Signal(SIGTERM);
  EXPECT_TRUE(velin.WaitExit());  // the gate stays closed: only the signal can end it
  g.Open("before");               // the orphaned hook ends too
  RunResult r = velin.Finish();
  EXPECT_EQ(r.exit_code, 128 + SIGTERM) << r.out << r.err;
  EXPECT_EQ(r.err.find("received"), std::string::npos) << r.err;
  EXPECT_FALSE(g.Reached("stop"));
  EXPECT_EQ(g.app().Current(), "v1");
  ExpectNoInterruptedSwitch(g, "");
  EXPECT_EQ(g.app().Velin({"rollback", "to-version", "v2"}).exit_code, 0);
}

// nohup velin …: SIGHUP inherited as ignored stays ignored, held or not.
TEST(RollbackSignalsTest, ASignalInheritedAsIgnoredIsIgnored) {
  GatedApp g;
  g.Hold("before");
  g.Hold("start");
  BackgroundVelin velin = Start(g.app(), {"rollback", "to-version", "v2"}, SIGHUP);
  ASSERT_TRUE(g.WaitFor("before"));
  velin.Signal(SIGHUP);  // not held here: would end velin at once
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(velin.Running());
  g.Open("before");
  ASSERT_TRUE(g.WaitFor("start"));
  velin.Signal(SIGHUP);
  g.Open("start");
  RunResult r = velin.Finish();
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.err.find("received"), std::string::npos) << r.err;
  EXPECT_EQ(g.app().Current(), "v2");
}

// `recover` finishing a switch that was killed (kill -9 after stop) holds the signal the same way.
TEST(RollbackSignalsTest, RecoverFinishesTheSwitchBeforeASignalEndsIt) {
  GatedApp g;
  RunResult r =
      g.app().Velin({"rollback", "to-version", "v2"}, {{"VELIN_TEST_CRASH_AT", "switch-stopped"}});
  ASSERT_EQ(r.exit_code, 86) << r.err;
  g.Hold("start");
  BackgroundVelin velin = Start(g.app(), {"rollback", "recover"});
  ASSERT_TRUE(g.WaitFor("start"));
  velin.Signal(SIGTERM);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(velin.Running());
  g.Open("start");
  r = velin.Finish();
  EXPECT_EQ(r.exit_code, 128 + SIGTERM) << r.out << r.err;
  EXPECT_EQ(g.app().Current(), "v2");
  ExpectNoInterruptedSwitch(g, "");
  EXPECT_EQ(LastSwitch(g)["outcome"], "switched");
}

}  // namespace
}  // namespace velin::testing
