// URL passwords kept out of what velin shows, logs and records (docs/cli.md: "a password in any
// URL shows as ***"). A command line of the user's (a hook, rollback.stop, a health check's
// `curl http://user:pw@localhost/up`), a config value, an error message quoting either: velin
// prints them, writes them to its log and history, and hands them to hooks and notifications
// (VELIN_ERROR); the password of every URL in them is replaced on the way.
#pragma once

#include <string>
#include <string_view>

namespace velin {

// `text` with the password of every URL in it ("scheme://user:secret@host") replaced by "***".
// A URL's authority ends at a '/', at blanks or at a quote (what ends a URL inside a shell
// command). Nothing else of the text changes.
std::string MaskUrlPasswords(std::string_view text);

}  // namespace velin
