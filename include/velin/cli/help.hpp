// The help every command shows, built centrally once the command tree is complete: value names
// for options (DURATION, DIR, ID, never TEXT), two or three examples per command, the global
// flags in every subcommand's help, German texts through the catalogue, and the one-line usage
// errors that name a mistyped word and suggest the nearest valid one. Command files only add
// their commands and options; a new command gets its examples in help.cpp's table
// (tests/unit/cli/help_test.cpp fails until it has them).
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace velin::cli {

// One example of a command's help: the command line and what it does (English, translated).
struct Example {
  std::string line;
  std::string what;
};

// "backup create" for the app of `velin backup create`; "" for the root.
std::string CommandPathOf(const CLI::App* app);

// The examples of a command path ("backup create"); empty when it has none.
const std::vector<Example>& ExamplesFor(const std::string& path);

// Names option values, translates descriptions, sets the help formatter and the labels. Call
// once, after every command and option is added.
void FinishCommandTree(CLI::App& root);

// The one line (without "error: ") that describes a parse error: the unknown command or flag
// with the nearest valid name, the missing argument or value. `root` as parse() left it.
std::string ParseErrorMessage(CLI::App& root, const CLI::ParseError& error);

// The nearest of `candidates` to `word` (edit distance, at most a third of the word's length
// and at least one), or "" when none is near.
std::string Nearest(const std::string& word, const std::vector<std::string>& candidates);

// Whether an option takes a value (a flag takes none).
bool TakesValue(const CLI::Option* option);

// The value name of an option (its type name as FinishCommandTree set it): "DURATION".
std::string ValueName(const CLI::Option* option);

// The commands and options below `app` that a user may type (hidden ones left out).
std::vector<CLI::App*> VisibleSubcommands(const CLI::App* app);
std::vector<const CLI::Option*> VisibleOptions(const CLI::App* app);

// Checks an example line against the tree as the parser would take it, without running it:
// "" when its commands, flags, values and arguments are all valid, else what is wrong. The
// line ends at a shell operator (>, |, ;).
std::string CheckExample(const CLI::App& root, const std::string& line);

// Writes the man page velin(1) in roff, from the command tree.
std::string ManPage(const CLI::App& root);

// A completion script for bash, zsh or fish from the command tree; "" for another shell.
std::string CompletionScript(const CLI::App& root, const std::string& shell);

}  // namespace velin::cli
