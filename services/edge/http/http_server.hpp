#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "http/http_types.hpp"

namespace bazaar::edge {

/// Limits and timeouts of the public server.
struct HttpServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;  ///< 0 picks a free port
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 1024 * 1024;
  std::chrono::milliseconds read_timeout{10'000};  ///< a whole request must arrive in this
  std::chrono::milliseconds idle_timeout{60'000};  ///< keep-alive between requests
  int threads = 4;  ///< request handlers may block (Prefer: wait), so more than one
  /// Threads that read and write the connections; 0: one per core. They never block, so more
  /// than the cores only contend for the same queue.
  int io_threads = 0;
  /// A WebSocket is closed after this long, so that it lives no longer than the access token
  /// that opened it (a disabled user's socket ends with it); clients reconnect with a new one.
  std::chrono::milliseconds websocket_lifetime{15 * 60 * 1000};
};

/// The WebSocket side: who may open `/ws`, and a way to push text frames to them.
class WebSocketHub {
 public:
  virtual ~WebSocketHub() = default;
  /// Called with the upgrade request; a Principal accepts it, nullopt answers 401.
  virtual std::optional<Principal> authenticate(const HttpRequest& upgrade) = 0;
};

/// Sends text frames to the open WebSocket sessions; thread-safe.
class WebSocketPublisher {
 public:
  virtual ~WebSocketPublisher() = default;
  /// To every session of one user.
  virtual void send_to_user(const std::string& user_id, const std::string& text) = 0;
  /// To every session of a user with `role` (admin, seller, buyer).
  virtual void send_to_role(const std::string& role, const std::string& text) = 0;
  /// To every open session.
  virtual void broadcast(const std::string& text) = 0;
  /// How many sessions are open (metrics, tests).
  virtual std::size_t sessions() const = 0;
};

/// The public HTTP/1.1 + WebSocket server (Boost.Beast). Requests are parsed with the size
/// limits, answered by `handler` on a worker thread, and kept alive until the idle timeout.
/// Malformed requests, oversized headers or bodies and slow senders are answered with RFC 9457
/// problem JSON (400, 413, 431, 408) or dropped, never passed to the handler.
class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;
  HttpServer(HttpServerOptions options, Handler handler, WebSocketHub& hub);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  std::uint16_t port() const;
  WebSocketPublisher& publisher();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bazaar::edge
