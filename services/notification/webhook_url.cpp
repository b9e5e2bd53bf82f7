#include "webhook_url.hpp"

#include <algorithm>
#include <cctype>

namespace bazaar::notification {
namespace {

events::Error invalid(std::string why) {
  return {"invalid_url", "webhook URL: " + why};
}

bool lower_equals(std::string_view text, std::string_view lower) {
  return text.size() == lower.size() &&
         std::equal(text.begin(), text.end(), lower.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == b;
         });
}

bool host_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' || c == '_';
}

}  // namespace

std::string WebhookUrl::host_header() const {
  std::string out = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port != 80) out += ":" + std::to_string(port);
  return out;
}

events::Result<WebhookUrl> parse_webhook_url(std::string_view url) {
  for (char c : url) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return invalid("must not contain spaces or control characters");
  }
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return invalid("must start with http://");
  const auto scheme = url.substr(0, scheme_end);
  if (lower_equals(scheme, "https")) return invalid("https is not supported; use http://");
  if (!lower_equals(scheme, "http")) return invalid("must start with http://");

  std::string_view rest = url.substr(scheme_end + 3);
  if (const auto hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
  const auto target_start = rest.find_first_of("/?");
  const std::string_view authority = rest.substr(0, target_start);
  WebhookUrl out;
  if (target_start != std::string_view::npos) {
    out.target = std::string(rest.substr(target_start));
    if (out.target.front() == '?') out.target.insert(out.target.begin(), '/');
  }
  if (authority.find('@') != std::string_view::npos) {
    return invalid("credentials in the URL are not supported");
  }

  std::string_view host = authority;
  std::string_view port;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return invalid("unclosed [ in the host");
    host = authority.substr(1, close - 1);
    const auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return invalid("unexpected text after the IPv6 address");
      port = after.substr(1);
    }
    const bool ipv6_chars = std::all_of(host.begin(), host.end(), [](char c) {
      return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == ':' || c == '.';
    });
    if (host.empty() || !ipv6_chars) return invalid("bad IPv6 address");
  } else {
    const auto colon = authority.find(':');
    if (colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
    }
    if (host.empty()) return invalid("missing host");
    if (!std::all_of(host.begin(), host.end(), host_char)) return invalid("bad host name");
  }
  out.host = std::string(host);

  if (authority.find(':') != std::string_view::npos && !authority.starts_with('[') &&
      port.empty()) {
    return invalid("empty port");
  }
  if (!port.empty()) {
    if (port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) {
          return std::isdigit(static_cast<unsigned char>(c)) != 0;
        })) {
      return invalid("port must be a number from 1 to 65535");
    }
    const int n = std::stoi(std::string(port));
    if (n < 1 || n > 65535) return invalid("port must be a number from 1 to 65535");
    out.port = static_cast<std::uint16_t>(n);
  }
  return out;
}

}  // namespace bazaar::notification
