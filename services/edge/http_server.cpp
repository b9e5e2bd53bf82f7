#include "http_server.hpp"

#include "events/db.hpp"
#include "events/listen.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <cctype>
#include <condition_variable>
#include <deque>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "problem.hpp"
#include "url_codec.hpp"

namespace bazaar::edge {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

// A client that leaves this many frames unread is gone or hostile: drop it rather than grow.
constexpr std::size_t kMaxQueuedFrames = 1000;
// Clients have nothing to say on /ws; a small limit keeps a hostile one from filling memory.
constexpr std::size_t kMaxClientFrameBytes = 64 * 1024;
// After rejecting a request the client may still be sending its body; reading it for a while
// before closing lets the client see the answer instead of a connection reset.
constexpr auto kLingerTime = std::chrono::seconds{1};
constexpr std::size_t kMaxLingerBytes = 8 * 1024 * 1024;
constexpr std::size_t kLingerChunk = 64 * 1024;
constexpr std::size_t kIdleReadChunk = 4096;
constexpr auto kShutdownGrace = std::chrono::seconds{1};
// Accept fails on fd exhaustion; retrying at once would spin.
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds{100};

std::string to_string(beast::string_view s) {
  return std::string(s.data(), s.size());
}

class WsSession;

// The open WebSocket sessions by id; the publisher side of the hub.
class WsRegistry final : public WebSocketPublisher {
 public:
  /// Registers an open session; 0 once the server is shutting down.
  std::uint64_t add(std::string user_id, std::weak_ptr<WsSession> session);
  void remove(std::uint64_t id);
  void send_to_user(const std::string& user_id, const std::string& text) override;
  void broadcast(const std::string& text) override;
  std::size_t sessions() const override;
  /// Refuses new sessions and sends a close frame to every open one.
  void close_all();
  /// Waits until every session has gone, at most `limit`.
  void wait_empty(SteadyClock::duration limit);

 private:
  struct Entry {
    std::string user_id;
    std::weak_ptr<WsSession> session;
  };
  std::vector<std::shared_ptr<WsSession>> live(const std::string* user_id) const;

  mutable std::mutex mutex_;
  std::condition_variable emptied_;
  std::unordered_map<std::uint64_t, Entry> entries_;
  std::uint64_t next_id_ = 1;
  bool closed_ = false;
};

// What every connection needs of the server. Member order matters for shutdown: queued worker
// tasks hold sessions whose sockets need the io_context, and sessions dying with the
// io_context still reach the registry.
struct ServerCore {
  ServerCore(HttpServerOptions opts, HttpServer::Handler h, WebSocketHub& wshub)
      : options(std::move(opts)),
        handler(std::move(h)),
        hub(wshub),
        workers(static_cast<std::size_t>(std::max(1, options.threads))) {}

  HttpResponse call(const HttpRequest& request) const {
    try {
      return handler(request);
    } catch (const DependencyUnavailable& e) {
      HttpResponse r = problem(503, "Service Unavailable", std::string(e.what()) + "; try again later");
      r.headers.emplace_back("Retry-After", std::to_string(e.retry_after_s()));
      return r;
    } catch (const std::exception& e) {
      spdlog::warn("handler for {} {} failed: {}", request.method, request.path,
                   events::error_summary(e));
      return problem(500, "Internal Server Error", "the request could not be handled");
    }
  }

  HttpServerOptions options;
  HttpServer::Handler handler;
  WebSocketHub& hub;
  WsRegistry registry;
  net::io_context io;
  // Handlers may block (long polls), so they never run on the I/O threads.
  net::thread_pool workers;
  std::atomic<bool> stopping{false};
};

// One WebSocket connection: pushes queued text frames one at a time and discards what the
// client sends. Every member is touched on the connection's strand only.
class WsSession : public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(tcp::socket socket, WsRegistry& registry, std::string user_id,
            std::chrono::milliseconds lifetime)
      : ws_(std::move(socket)),
        lifetime_timer_(ws_.get_executor()),
        registry_(registry),
        user_id_(std::move(user_id)),
        lifetime_(lifetime) {}

  void run(http::request<http::string_body> upgrade) {
    upgrade_ = std::move(upgrade);
    // From here on the websocket timeout option owns deadlines (handshake, idle pings).
    beast::get_lowest_layer(ws_).expires_never();
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(http::field::server, "bazaar"); }));
    ws_.read_message_max(kMaxClientFrameBytes);
    ws_.async_accept(upgrade_,
                     [self = shared_from_this()](beast::error_code ec) { self->on_accept(ec); });
  }

  void send(std::shared_ptr<const std::string> text) {
    net::post(ws_.get_executor(), [self = shared_from_this(), text = std::move(text)]() mutable {
      if (!self->open_ || self->closing_) return;
      if (self->queue_.size() >= kMaxQueuedFrames) {
        spdlog::warn("websocket of user {} dropped: {} frames unread", self->user_id_,
                     self->queue_.size());
        self->finish({});
        beast::get_lowest_layer(self->ws_).close();
        return;
      }
      self->queue_.push_back(std::move(text));
      if (self->queue_.size() == 1) self->write();
    });
  }

  void close() {
    net::post(ws_.get_executor(), [self = shared_from_this()] {
      if (!self->open_ || self->closing_) return;
      self->closing_ = true;
      // The pending read ends with `closed` once the client answers, which finishes us.
      self->ws_.async_close(websocket::close_code::going_away, [self](beast::error_code ec) {
        if (ec) self->finish(ec);
      });
    });
  }

 private:
  void on_accept(beast::error_code ec) {
    if (ec) {
      spdlog::debug("websocket handshake failed: {}", ec.message());
      return;
    }
    id_ = registry_.add(user_id_, weak_from_this());
    if (id_ == 0) {
      closing_ = true;
      ws_.async_close(websocket::close_code::going_away,
                      [self = shared_from_this()](beast::error_code) {});
      return;
    }
    open_ = true;
    spdlog::debug("websocket opened for user {}", user_id_);
    lifetime_timer_.expires_after(lifetime_);
    lifetime_timer_.async_wait([self = shared_from_this()](beast::error_code waited) {
      if (!waited) self->close();
    });
    read();
  }

  void read() {
    ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) {
        self->finish(ec);
        return;
      }
      self->buffer_.consume(self->buffer_.size());
      self->read();
    });
  }

  void write() {
    ws_.text(true);
    ws_.async_write(net::buffer(*queue_.front()),
                    [self = shared_from_this()](beast::error_code ec, std::size_t) {
                      // On error the frame stays queued: the buffer must outlive the write,
                      // and a finished session sends nothing more anyway.
                      if (ec) {
                        self->finish(ec);
                        return;
                      }
                      self->queue_.pop_front();
                      if (!self->queue_.empty() && self->open_) self->write();
                    });
  }

  void finish(beast::error_code ec) {
    if (!open_) return;
    open_ = false;
    lifetime_timer_.cancel();
    registry_.remove(id_);
    if (ec && ec != websocket::error::closed && ec != net::error::operation_aborted) {
      spdlog::debug("websocket of user {} ended: {}", user_id_, ec.message());
    } else {
      spdlog::debug("websocket of user {} closed", user_id_);
    }
  }

  websocket::stream<beast::tcp_stream> ws_;
  net::steady_timer lifetime_timer_;
  http::request<http::string_body> upgrade_;
  beast::flat_buffer buffer_;
  std::deque<std::shared_ptr<const std::string>> queue_;
  WsRegistry& registry_;
  std::string user_id_;
  std::chrono::milliseconds lifetime_;
  std::uint64_t id_ = 0;
  bool open_ = false;
  bool closing_ = false;
};

std::uint64_t WsRegistry::add(std::string user_id, std::weak_ptr<WsSession> session) {
  const std::lock_guard lock(mutex_);
  if (closed_) return 0;
  const auto id = next_id_++;
  entries_.emplace(id, Entry{std::move(user_id), std::move(session)});
  return id;
}

void WsRegistry::remove(std::uint64_t id) {
  const std::lock_guard lock(mutex_);
  entries_.erase(id);
  if (entries_.empty()) emptied_.notify_all();
}

std::vector<std::shared_ptr<WsSession>> WsRegistry::live(const std::string* user_id) const {
  std::vector<std::shared_ptr<WsSession>> found;
  const std::lock_guard lock(mutex_);
  for (const auto& [id, entry] : entries_) {
    if (user_id != nullptr && entry.user_id != *user_id) continue;
    if (auto session = entry.session.lock()) found.push_back(std::move(session));
  }
  return found;
}

void WsRegistry::send_to_user(const std::string& user_id, const std::string& text) {
  const auto sessions = live(&user_id);
  if (sessions.empty()) return;
  const auto frame = std::make_shared<const std::string>(text);
  for (const auto& session : sessions) session->send(frame);
}

void WsRegistry::broadcast(const std::string& text) {
  const auto sessions = live(nullptr);
  if (sessions.empty()) return;
  const auto frame = std::make_shared<const std::string>(text);
  for (const auto& session : sessions) session->send(frame);
}

std::size_t WsRegistry::sessions() const {
  const std::lock_guard lock(mutex_);
  return entries_.size();
}

void WsRegistry::close_all() {
  {
    const std::lock_guard lock(mutex_);
    closed_ = true;
  }
  for (const auto& session : live(nullptr)) session->close();
}

void WsRegistry::wait_empty(SteadyClock::duration limit) {
  std::unique_lock lock(mutex_);
  emptied_.wait_for(lock, limit, [this] { return entries_.empty(); });
}

// One HTTP connection: reads requests under the size and time limits, hands each to a worker
// and writes the answer, until the client or a limit closes it. Every member is touched on
// the connection's strand only.
class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket socket, ServerCore& core)
      : stream_(std::move(socket)), request_timer_(stream_.get_executor()), core_(core) {
    beast::error_code ec;
    const auto endpoint = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ = endpoint.address().to_string();
  }

  void start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->begin_request(); });
  }

 private:
  // Keep-alive: wait up to the idle timeout for the next request's first bytes.
  void wait_for_request() {
    if (buffer_.size() > 0) {  // pipelined
      begin_request();
      return;
    }
    stream_.expires_after(core_.options.idle_timeout);
    stream_.async_read_some(buffer_.prepare(kIdleReadChunk),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              if (ec) {
                                self->close_now();
                                return;
                              }
                              self->buffer_.commit(n);
                              self->begin_request();
                            });
  }

  // The whole request must arrive within the read timeout. Our own timer, not the stream's
  // expiry: the stream's closes the socket, and a slow sender is owed a 408.
  void begin_request() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(
        core_.options.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
    parser_->body_limit(static_cast<std::uint64_t>(core_.options.max_body_bytes));
    version_ = 11;
    method_ = "-";
    path_ = "-";
    timed_out_ = false;
    reading_ = true;
    stream_.expires_never();
    request_timer_.expires_after(core_.options.read_timeout);
    request_timer_.async_wait(
        [self = shared_from_this(), generation = ++generation_](beast::error_code ec) {
          if (ec || !self->reading_ || generation != self->generation_) return;
          self->timed_out_ = true;
          self->stream_.cancel();
        });
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    if (ec) {
      on_read_error(ec);
      return;
    }
    const auto& req = parser_->get();
    version_ = req.version();
    // Clients that ask first (curl does for large bodies) only send the body after a 100;
    // a body over the limit was already refused above from its Content-Length.
    if (version_ == 11 && !parser_->is_done() &&
        beast::iequals(req[http::field::expect], "100-continue")) {
      continue_ = {http::status::continue_, 11};
      http::async_write(stream_, continue_,
                        [self = shared_from_this()](beast::error_code wec, std::size_t) {
                          if (wec) {
                            self->on_read_error(wec);
                            return;
                          }
                          self->read_body();
                        });
      return;
    }
    read_body();
  }

  void read_body() {
    if (parser_->is_done()) {
      on_request();
      return;
    }
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       if (ec) {
                         self->on_read_error(ec);
                         return;
                       }
                       self->on_request();
                     });
  }

  void end_reading() {
    reading_ = false;
    request_timer_.cancel();
  }

  void on_read_error(beast::error_code ec) {
    end_reading();
    if (timed_out_) {
      if (buffer_.size() > 0 || parser_->got_some()) {
        reject(408, "Request Timeout",
               "the request did not arrive within " +
                   std::to_string(core_.options.read_timeout.count()) + " ms");
      } else {
        close_now();
      }
      return;
    }
    if (ec == http::error::body_limit) {
      reject(413, "Content Too Large",
             "the request body exceeds " + std::to_string(core_.options.max_body_bytes) + " bytes");
    } else if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
      reject(431, "Request Header Fields Too Large",
             "the request header exceeds " + std::to_string(core_.options.max_header_bytes) +
                 " bytes");
    } else if (ec == http::error::end_of_stream || ec == http::error::partial_message) {
      close_now();  // the client went away, possibly mid-request: nobody to answer
    } else if (ec.category() == http::make_error_code(http::error::bad_method).category()) {
      reject(400, "Bad Request", "malformed HTTP request: " + ec.message());
    } else {
      close_now();
    }
  }

  void on_request() {
    end_reading();
    const auto& req = parser_->get();
    started_ = SteadyClock::now();
    method_ = to_string(req.method_string());
    const auto target = req.target();
    const auto parts = split_target(std::string_view(target.data(), target.size()));
    auto path = percent_decode(parts.path);
    auto query = parse_query(parts.query);
    path_ = path ? *path : std::string(parts.path);
    if (!path || !query) {
      reject(400, "Bad Request", "malformed percent-encoding in the request target");
      return;
    }

    HttpRequest request;
    // HEAD is answered as GET without the body, so routes need not register it.
    request.method = req.method() == http::verb::head ? "GET" : method_;
    request.target = to_string(target);
    request.path = std::move(*path);
    request.query = std::move(*query);
    for (const auto& field : req) {
      std::string name = to_string(field.name_string());
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      auto [it, inserted] = request.headers.emplace(std::move(name), to_string(field.value()));
      if (!inserted) {  // repeated fields fold into one list (RFC 9110 5.3)
        it->second += ", ";
        it->second += to_string(field.value());
      }
    }
    request.body = std::move(parser_->get().body());
    request.remote = remote_;
    keep_alive_ = req.keep_alive();
    head_ = req.method() == http::verb::head;

    const auto strand = stream_.get_executor();
    if (websocket::is_upgrade(req) && request.path == "/ws") {
      net::post(core_.workers, [self = shared_from_this(), strand, request = std::move(request)] {
        std::optional<Principal> principal;
        try {
          principal = self->core_.hub.authenticate(request);
        } catch (const std::exception& e) {
          spdlog::warn("websocket authentication failed: {}", events::error_summary(e));
        }
        net::post(strand, [self, principal = std::move(principal)]() mutable {
          self->on_authenticated(std::move(principal));
        });
      });
      return;
    }
    net::post(core_.workers, [self = shared_from_this(), strand, request = std::move(request)] {
      HttpResponse response = self->core_.call(request);
      net::post(strand, [self, response = std::move(response)]() mutable {
        self->respond(std::move(response));
      });
    });
  }

  void on_authenticated(std::optional<Principal> principal) {
    if (!principal) {
      auto denied = problem(401, "Unauthorized", "a valid access token is required for /ws");
      denied.headers.emplace_back("WWW-Authenticate", "Bearer");
      keep_alive_ = false;
      respond(std::move(denied));
      return;
    }
    spdlog::debug("{} {} 101 {} ms", method_, path_, elapsed_ms());
    auto session =
        std::make_shared<WsSession>(stream_.release_socket(), core_.registry, principal->user_id,
                                    core_.options.websocket_lifetime);
    session->run(parser_->release());
  }

  // Answers a request that never reaches the handler, then closes the connection.
  void reject(int status, std::string title, std::string detail) {
    spdlog::warn("rejected request from {}: {} {}", remote_, status, detail);
    started_ = SteadyClock::now();
    keep_alive_ = false;
    head_ = false;
    linger_ = true;
    respond(problem(status, std::move(title), std::move(detail)));
  }

  void respond(HttpResponse r) {
    if (r.status < 200 || r.status > 599) {
      spdlog::warn("handler answered {} {} with status {}", method_, path_, r.status);
      r = problem(500, "Internal Server Error", "the request could not be handled");
    }
    status_ = r.status;
    response_ = {};
    response_.version(version_);
    response_.result(static_cast<unsigned>(r.status));
    response_.set(http::field::server, "bazaar");
    // 204 and 304 carry neither a body nor a length (RFC 9110 8.6); HEAD carries the length only.
    const bool bodiless = r.status == 204 || r.status == 304;
    if (!bodiless && !r.content_type.empty()) {
      response_.set(http::field::content_type, r.content_type);
    }
    for (const auto& [name, value] : r.headers) response_.insert(name, value);
    if (!bodiless) {
      response_.content_length(r.body.size());
      if (!head_) response_.body() = std::move(r.body);
    }
    response_.keep_alive(keep_alive_ && !core_.stopping.load());
    // A client that does not read its answer is cut off like a slow sender.
    stream_.expires_after(core_.options.read_timeout);
    http::async_write(
        stream_, response_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_write(ec); });
  }

  void on_write(beast::error_code ec) {
    spdlog::debug("{} {} {} {} ms", method_, path_, status_, elapsed_ms());
    if (ec) {
      close_now();
      return;
    }
    if (linger_) {
      linger_close();
      return;
    }
    if (!response_.keep_alive()) {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      close_now();
      return;
    }
    response_ = {};
    parser_.reset();
    wait_for_request();
  }

  void linger_close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(kLingerTime);
    drain();
  }

  void drain() {
    buffer_.clear();
    stream_.async_read_some(buffer_.prepare(kLingerChunk),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->lingered_ += n;
                              if (ec || self->lingered_ > kMaxLingerBytes) {
                                self->close_now();
                                return;
                              }
                              self->drain();
                            });
  }

  void close_now() {
    end_reading();
    stream_.close();
  }

  long long elapsed_ms() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - started_)
        .count();
  }

  beast::tcp_stream stream_;
  net::steady_timer request_timer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::empty_body> continue_;
  http::response<http::string_body> response_;
  ServerCore& core_;
  std::string remote_;
  std::string method_ = "-";
  std::string path_ = "-";  // decoded, never the query: it may hold tokens
  SteadyClock::time_point started_ = SteadyClock::now();
  std::uint64_t generation_ = 0;
  std::size_t lingered_ = 0;
  unsigned version_ = 11;
  int status_ = 0;
  bool reading_ = false;
  bool timed_out_ = false;
  bool keep_alive_ = false;
  bool head_ = false;
  bool linger_ = false;
};

}  // namespace

class HttpServer::Impl {
 public:
  Impl(HttpServerOptions options, Handler handler, WebSocketHub& hub)
      : core_(std::move(options), std::move(handler), hub),
        acceptor_(net::make_strand(core_.io)),
        retry_timer_(acceptor_.get_executor()),
        work_(net::make_work_guard(core_.io)) {
    const auto& opts = core_.options;
    events::listen(acceptor_, opts.host, opts.port);
    port_ = acceptor_.local_endpoint().port();
    accept();
    const int threads = std::max(1, opts.threads);
    threads_.reserve(static_cast<std::size_t>(threads));
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { core_.io.run(); });
    spdlog::info("http server listening on {}:{} with {} threads", opts.host, port_, threads);
  }

  ~Impl() {
    core_.stopping = true;
    net::post(acceptor_.get_executor(), [this] {
      beast::error_code ignored;
      acceptor_.close(ignored);
      retry_timer_.cancel();
    });
    core_.registry.close_all();
    // Handlers already running finish and their answers are written while the I/O threads
    // still run; queued ones are dropped.
    core_.workers.stop();
    core_.workers.join();
    core_.registry.wait_empty(kShutdownGrace);
    work_.reset();
    core_.io.stop();
    for (auto& thread : threads_) thread.join();
  }

  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  std::uint16_t port() const { return port_; }
  WebSocketPublisher& publisher() { return core_.registry; }

 private:
  void accept() {
    acceptor_.async_accept(net::make_strand(core_.io),
                           [this](beast::error_code ec, tcp::socket socket) {
                             if (ec == net::error::operation_aborted || core_.stopping.load())
                               return;
                             if (ec) {
                               spdlog::warn("http accept failed: {}", ec.message());
                               retry_timer_.expires_after(kAcceptRetryDelay);
                               retry_timer_.async_wait([this](beast::error_code wec) {
                                 if (!wec && !core_.stopping.load()) accept();
                               });
                               return;
                             }
                             std::make_shared<HttpSession>(std::move(socket), core_)->start();
                             accept();
                           });
  }

  ServerCore core_;
  tcp::acceptor acceptor_;
  net::steady_timer retry_timer_;
  net::executor_work_guard<net::io_context::executor_type> work_;
  std::vector<std::thread> threads_;
  std::uint16_t port_ = 0;
};

HttpServer::HttpServer(HttpServerOptions options, Handler handler, WebSocketHub& hub)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler), hub)) {}

HttpServer::~HttpServer() = default;

std::uint16_t HttpServer::port() const {
  return impl_->port();
}

WebSocketPublisher& HttpServer::publisher() {
  return impl_->publisher();
}

}  // namespace bazaar::edge
