// The message catalogue. Every message a user reads goes through Tr(), keyed by its English
// text, gettext-style, so that a translation chosen by LC_ALL / LC_MESSAGES / LANG can serve
// it. German ships with velin (its first users wrote their docs in German); a message without
// a translation falls back to English.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace velin {

// The translation of `english` for the current language, or `english` itself.
std::string_view Tr(std::string_view english);

// Notes a text that went through the catalogue (the miss report below; a no-op otherwise).
std::string NoteTranslated(std::string text);

// Formats a translated message: TrFormat("Backup ID: {}", id). The key is the template, never
// a formatted result.
template <typename... Args>
std::string TrFormat(std::string_view english, Args&&... args) {
  return NoteTranslated(fmt::format(fmt::runtime(Tr(english)), std::forward<Args>(args)...));
}

// A count's message in its number: `one` when `count` is 1, else `many` ("1 file", "3 files";
// "1 Datei", "3 Dateien"), each a catalogue key of its own, since English and German have these
// two forms (and a verb agrees: "1 file has", "3 files have"). `count` is not formatted by
// itself: pass it among `args` where the template has its {}.
template <typename... Args>
std::string TrCount(uint64_t count, std::string_view one, std::string_view many, Args&&... args) {
  return TrFormat(count == 1 ? one : many, std::forward<Args>(args)...);
}

// One counted phrase of a message with several counts ("1 blob removed", "3 new packs"), in its
// own number, to fill a {} of the message's template: each count of such a message gets its own
// phrase (a template per combination of numbers would not scale), so that none says "1 packs":
//   TrFormat("Deleted {} and repacked {} of {} ({}, {})", deleted, repacked,
//            TrCounted(total, "{} pack", "{} packs"),
//            TrCounted(removed, "{} blob removed", "{} blobs removed"), ...)
// A count whose verb or noun the template holds picks the template with TrCount instead.
inline std::string TrCounted(uint64_t count, std::string_view one, std::string_view many) {
  return TrCount(count, one, many, count);
}

// Text with no language in it, shown as it is: ids, paths, names, rows of data.
inline std::string NoTr(std::string text) { return NoteTranslated(std::move(text)); }

// The miss report. With VELIN_I18N_REPORT_MISSES=FILE and a German language, velin appends to
// FILE one line per text a German user would read in English:
//   "tr\t<key>"        a catalogue lookup with no German entry;
//   "shown\t<text>"    a line shown that came from neither Tr/TrFormat nor NoTr;
//   "english\t<text>"  a text put into an error without the catalogue (ErrnoError's `what`),
//                     inside a line shown.
// The German-run test (tests/integration/i18n_german_test.cpp) fails when FILE is not empty.
bool ReportingMisses();
// The console calls this for every line it shows.
void CheckShown(std::string_view text);
// Error construction calls this with the texts it puts into a message.
void NoteErrorText(std::string_view text);

// English whatever the environment says (--json: JSON output stays English).
void UseEnglish();

// Re-reads the language from the environment (tests; main calls it once).
void InitLanguageFromEnvironment();

// Every entry of the German catalogue's tables (English key, German text), table by table: a
// key in two tables appears twice. For the tests that hold each German text to its key (the
// same placeholders; one German text per key).
std::vector<std::pair<std::string_view, std::string_view>> GermanCatalogueEntries();

}  // namespace velin
