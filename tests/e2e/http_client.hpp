#pragma once

#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace bazaar::e2e {

/// One HTTP exchange as a test sees it.
struct HttpResult {
  int status = 0;                              ///< 0 when the server closed without answering
  std::map<std::string, std::string> headers;  ///< names lower-cased
  std::string body;
  /// The body parsed as JSON (null when it is not JSON).
  boost::json::value json() const;
  std::string header(const std::string& name) const;
};

/// A plain HTTP/1.1 client over a loopback socket, one connection per request, so tests see
/// exactly what a client sees.
class HttpClient {
 public:
  explicit HttpClient(std::uint16_t port) : port_(port) {}
  HttpResult request(const std::string& method, const std::string& target,
                     const std::string& body = {},
                     const std::vector<std::pair<std::string, std::string>>& headers = {}) const;
  HttpResult get(const std::string& target, const std::string& token = {}) const;
  HttpResult post(const std::string& target, const boost::json::value& body,
                  const std::string& token = {},
                  std::vector<std::pair<std::string, std::string>> headers = {}) const;
  HttpResult send(const std::string& method, const std::string& target,
                  const boost::json::value& body, const std::string& token = {}) const;
  /// Writes `raw` bytes, waits up to `wait` for an answer, and returns what came back.
  std::string raw(const std::string& raw, std::chrono::milliseconds wait) const;
  std::uint16_t port() const { return port_; }

 private:
  std::uint16_t port_;
};

/// A minimal WebSocket client (RFC 6455): opens `target` with a bearer token and reads text
/// frames.
class WebSocketClient {
 public:
  WebSocketClient(std::uint16_t port, const std::string& target, const std::string& token);
  ~WebSocketClient();
  bool open() const { return fd_ >= 0; }
  int handshake_status() const { return status_; }
  /// The next text frame, or empty after `timeout`.
  std::string next(std::chrono::milliseconds timeout);

 private:
  int fd_ = -1;
  int status_ = 0;
  std::string buffer_;
};

}  // namespace bazaar::e2e
