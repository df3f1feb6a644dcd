// Logging through spdlog: warnings (and, with -v, debug detail) to stderr; everything at
// [log] level to [log] file when set, rotated by size. Log lines never carry secrets: callers
// log names of variables and files, never their contents.
#pragma once

#include <functional>
#include <string>

#include "velin/config/config.hpp"
#include "velin/core/error.hpp"

namespace velin::output {

// Console-only logging, before any config is read.
void SetupEarlyLogging(bool verbose, bool quiet);

// Adds the file sink of [log] (creating its directory) and applies [log] level. When the file
// cannot be opened, logging is set up on stderr alone and the failure ("cannot open log file
// F: why") is returned for the caller to warn about: no command fails for want of its log.
// When a write to it fails later (a full disk), the file is let go and `warn` is called once,
// on the writing thread, with "cannot write log file F: why; logging to stderr only" (none:
// that line goes to stderr as is). `warn` may log: the file takes nothing from then on.
Status SetupLogging(const config::LogSection& log, bool verbose, bool quiet,
                    std::function<void(const std::string&)> warn = nullptr);

// Records the command's final error in the log file only: stderr gets it once, from the
// Console.
void LogErrorToFile(const std::string& message);

// Records a warning the Console printed on stderr in the log file too, as `warning: …`
// (docs/cli.md: every error and warning is in the [log] file).
void LogWarningToFile(const std::string& message);

}  // namespace velin::output
