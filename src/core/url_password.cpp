#include "velin/core/url_password.hpp"

#include <algorithm>

namespace velin {

std::string MaskUrlPasswords(std::string_view text) {
  std::string out;
  size_t done = 0;
  for (size_t scheme = text.find("://"); scheme != std::string_view::npos;
       scheme = text.find("://", scheme + 3)) {
    const size_t start = scheme + 3;
    if (start < done) continue;  // inside the password masked last ("u:a://b@h")
    // Not at '?' or '#': a password that holds one unescaped is still the password.
    const size_t end = std::min(text.find_first_of("/ \t\r\n'\"`", start), text.size());
    if (end == start) continue;
    const size_t at = text.rfind('@', end - 1);
    if (at == std::string_view::npos || at < start) continue;
    const size_t colon = text.find(':', start);
    if (colon == std::string_view::npos || colon > at) continue;
    out.append(text.substr(done, colon + 1 - done));
    out += "***";
    done = at;
  }
  out.append(text.substr(done));
  return out;
}

}  // namespace velin
