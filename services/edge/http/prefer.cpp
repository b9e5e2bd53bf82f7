#include "http/prefer.hpp"

#include <cctype>
#include <string>

namespace bazaar::edge {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// Delta-seconds: digits only; anything beyond the cap is the cap (RFC 7240 lets a server
// honour less than asked).
std::optional<int> seconds(std::string_view value) {
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
    value = value.substr(1, value.size() - 2);
  }
  if (value.empty()) return std::nullopt;
  long n = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
    if (n > kMaxPreferWaitSeconds) n = kMaxPreferWaitSeconds + 1;
  }
  return n > kMaxPreferWaitSeconds ? kMaxPreferWaitSeconds : static_cast<int>(n);
}

}  // namespace

std::optional<int> prefer_wait(std::string_view header) {
  // Preferences are comma-separated; each is `token[=value]` followed by `;`-parameters,
  // which belong to that preference and are not preferences of their own. Quoted values
  // never contain a comma in any preference we honour, so a plain split is enough.
  while (!header.empty()) {
    const auto comma = header.find(',');
    std::string_view pref = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
    pref = trim(pref.substr(0, pref.find(';')));
    const auto eq = pref.find('=');
    if (eq == std::string_view::npos) continue;
    if (!iequals(trim(pref.substr(0, eq)), "wait")) continue;
    // The first `wait` wins, as RFC 7240 asks of repeated preferences.
    return seconds(trim(pref.substr(eq + 1)));
  }
  return std::nullopt;
}

}  // namespace bazaar::edge
