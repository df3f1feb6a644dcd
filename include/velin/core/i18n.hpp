// The message catalogue. Every message a user reads goes through Tr(), keyed by its English
// text, gettext-style, so that a translation chosen by LC_ALL / LC_MESSAGES / LANG can serve
// it. German ships with velin (its first users wrote their docs in German); a message without
// a translation falls back to English.
#pragma once

#include <fmt/format.h>

#include <string_view>

namespace velin {

// The translation of `english` for the current language, or `english` itself.
std::string_view Tr(std::string_view english);

// Formats a translated message: TrFormat("Backup ID: {}", id).
template <typename... Args>
std::string TrFormat(std::string_view english, Args&&... args) {
  return fmt::format(fmt::runtime(Tr(english)), std::forward<Args>(args)...);
}

// Re-reads the language from the environment (tests; main calls it once).
void InitLanguageFromEnvironment();

}  // namespace velin
