// velin: builds the command tree and runs it; nothing else lives here.
#include <csignal>

#include "velin/cli/context.hpp"
#include "velin/core/process.hpp"
#include "velin/core/stack.hpp"
#include "velin/core/termination.hpp"
#include "velin/core/threads.hpp"

int main(int argc, char** argv) {
  // Before anything opens a file: a closed stdout must not become the first file opened.
  velin::KeepStandardDescriptorsOpen();
  // A closed pipe (velin backup list | head) is an error on write, not a silent death.
  std::signal(SIGPIPE, SIG_IGN);
  // A file past the file-size limit (ulimit -f) is an error on write (EFBIG), as a file past
  // what the file system holds is (FAT32: 4 GiB), not a death with a core dump.
  std::signal(SIGXFSZ, SIG_IGN);
  // SIGINT, SIGTERM, SIGHUP end velin at once, except during a rollback switch, which they
  // let finish first (core/termination.hpp).
  velin::InstallTerminationHandlers();
  // What nothing caught (out of memory on a thread others wait for) is one error line and
  // exit 1, not "terminate called …" and SIGABRT (core/threads.hpp).
  velin::InstallTerminateHandler();
  // A restore holds a directory open per file waiting to be written: the soft limit on open
  // files (1,024 for a service) goes up to the hard one; children get the old one back.
  velin::RaiseOpenFileLimit();
  // At least 1 MiB of stack whatever `ulimit -s` left (64 KiB killed velin): core/stack.hpp.
  const int code = velin::RunWithRoomyStack(velin::cli::Run, argc, argv);
  velin::EndByHeldSignal();
  return code;
}
