// An independent checker of the Prometheus text exposition format (0.0.4), written from the
// format's description rather than from velin's writer, so that tests of the metrics file do
// not merely read back what the writer meant to write. It checks what a Prometheus server or
// node_exporter's textfile collector would reject: metric and label names, label-value
// escapes, sample values, HELP/TYPE placement (once per family, before its samples), families
// not interleaved, duplicate series, counters that are negative or not named *_total, and the
// final newline.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace velin::testing {

struct PrometheusCheck {
  std::vector<std::string> problems;         // "line 3: ..." — empty when the text is valid
  std::map<std::string, std::string> types;  // family name -> counter|gauge|...
  // Every sample by its series name as written after parsing, with labels sorted:
  // `velin_runs_total{command="backup create"}` -> 2.
  std::map<std::string, double> samples;
};

PrometheusCheck CheckPrometheusText(std::string_view text);

}  // namespace velin::testing
