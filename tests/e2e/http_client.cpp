#include "http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cctype>

namespace bazaar::e2e {
namespace {

int connect_loopback(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

void write_all(int fd, const std::string& data) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;
    sent += static_cast<std::size_t>(n);
  }
}

// Reads until the peer closes or `wait` passes without data.
std::string read_all(int fd, std::chrono::milliseconds wait) {
  std::string out;
  char buf[8192];
  while (true) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(wait.count())) <= 0) break;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

HttpResult parse_response(const std::string& text) {
  HttpResult r;
  const auto head_end = text.find("\r\n\r\n");
  if (text.size() < 12 || head_end == std::string::npos) return r;
  r.status = std::stoi(text.substr(9, 3));
  std::size_t pos = text.find("\r\n") + 2;
  while (pos < head_end) {
    const auto eol = text.find("\r\n", pos);
    const std::string line = text.substr(pos, eol - pos);
    const auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      r.headers[lower(line.substr(0, colon))] = value;
    }
    pos = eol + 2;
  }
  r.body = text.substr(head_end + 4);
  return r;
}

}  // namespace

boost::json::value HttpResult::json() const {
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  return ec ? boost::json::value{} : v;
}

std::string HttpResult::header(const std::string& name) const {
  const auto it = headers.find(lower(name));
  return it == headers.end() ? std::string{} : it->second;
}

HttpResult HttpClient::request(
    const std::string& method, const std::string& target, const std::string& body,
    const std::vector<std::pair<std::string, std::string>>& headers) const {
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n" + body;
  return parse_response(raw(req, std::chrono::seconds{40}));
}

HttpResult HttpClient::get(const std::string& target, const std::string& token) const {
  std::vector<std::pair<std::string, std::string>> h;
  if (!token.empty()) h.emplace_back("Authorization", "Bearer " + token);
  return request("GET", target, {}, h);
}

HttpResult HttpClient::post(const std::string& target, const boost::json::value& body,
                            const std::string& token,
                            std::vector<std::pair<std::string, std::string>> headers) const {
  headers.emplace_back("Content-Type", "application/json");
  if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
  return request("POST", target, boost::json::serialize(body), headers);
}

HttpResult HttpClient::send(const std::string& method, const std::string& target,
                            const boost::json::value& body, const std::string& token) const {
  std::vector<std::pair<std::string, std::string>> h{{"Content-Type", "application/json"}};
  if (!token.empty()) h.emplace_back("Authorization", "Bearer " + token);
  return request(method, target, body.is_null() ? std::string{} : boost::json::serialize(body), h);
}

std::string HttpClient::raw(const std::string& data, std::chrono::milliseconds wait) const {
  const int fd = connect_loopback(port_);
  if (fd < 0) return {};
  write_all(fd, data);
  std::string out = read_all(fd, wait);
  ::close(fd);
  return out;
}

WebSocketClient::WebSocketClient(std::uint16_t port, const std::string& target,
                                 const std::string& token) {
  fd_ = connect_loopback(port);
  if (fd_ < 0) return;
  const std::string req = "GET " + target +
                          " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                          "Sec-WebSocket-Version: 13\r\n"
                          "Authorization: Bearer " +
                          token + "\r\n\r\n";
  write_all(fd_, req);
  // Read the handshake answer up to its blank line; frames may follow in the same read.
  char buf[4096];
  while (buffer_.find("\r\n\r\n") == std::string::npos) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 10000) <= 0) break;
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) break;
    buffer_.append(buf, static_cast<std::size_t>(n));
  }
  if (buffer_.size() >= 12) status_ = std::stoi(buffer_.substr(9, 3));
  const auto end = buffer_.find("\r\n\r\n");
  buffer_ = end == std::string::npos ? std::string{} : buffer_.substr(end + 4);
  if (status_ != 101) {
    ::close(fd_);
    fd_ = -1;
  }
}

WebSocketClient::~WebSocketClient() {
  if (fd_ >= 0) ::close(fd_);
}

std::string WebSocketClient::next(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[8192];
  while (fd_ >= 0) {
    // A frame from the server: FIN/opcode, length (7, 16 or 64 bits), never masked.
    if (buffer_.size() >= 2) {
      const auto b0 = static_cast<unsigned char>(buffer_[0]);
      const auto b1 = static_cast<unsigned char>(buffer_[1]);
      std::size_t len = b1 & 0x7f;
      std::size_t header = 2;
      if (len == 126 && buffer_.size() >= 4) {
        len = static_cast<std::size_t>(static_cast<unsigned char>(buffer_[2]) << 8 |
                                       static_cast<unsigned char>(buffer_[3]));
        header = 4;
      } else if (len == 127 && buffer_.size() >= 10) {
        len = 0;
        for (int i = 2; i < 10; ++i)
          len = len << 8 | static_cast<unsigned char>(buffer_[static_cast<std::size_t>(i)]);
        header = 10;
      }
      if ((len < 126 || header > 2) && buffer_.size() >= header + len) {
        std::string payload = buffer_.substr(header, len);
        buffer_.erase(0, header + len);
        if ((b0 & 0x0f) == 0x1) return payload;  // text; pings and others are skipped
        continue;
      }
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return {};
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return {};
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return {};
    buffer_.append(buf, static_cast<std::size_t>(n));
  }
  return {};
}

}  // namespace bazaar::e2e
