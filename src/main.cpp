// velin: builds the command tree and runs it; nothing else lives here.
#include <csignal>

#include "velin/cli/context.hpp"

int main(int argc, char** argv) {
  // A closed pipe (velin backup list | head) is an error on write, not a silent death.
  std::signal(SIGPIPE, SIG_IGN);
  return velin::cli::Run(argc, argv);
}
