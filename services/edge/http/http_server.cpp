#include "http/http_server.hpp"

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

#include "events/db.hpp"
#include "events/listen.hpp"
#include "http/problem.hpp"
#include "http/router.hpp"
#include "http/url_codec.hpp"
#include "http/ws_registry.hpp"
#include "http/ws_session.hpp"

namespace bazaar::edge {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

// After rejecting a request the client may still be sending its body; reading it for a while
// before closing lets the client see the answer instead of a connection reset.
constexpr auto kLingerTime = std::chrono::seconds{1};
constexpr std::size_t kMaxLingerBytes = 8 * 1024 * 1024;
constexpr std::size_t kLingerChunk = 16 * 1024;
constexpr std::size_t kIdleReadChunk = 4096;
constexpr auto kShutdownGrace = std::chrono::seconds{1};
// Accept fails on fd exhaustion; retrying at once would spin.
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds{100};

std::string to_string(beast::string_view s) {
  return std::string(s.data(), s.size());
}

// What a connection may hold of input not yet parsed: a whole head, or a chunk header with its
// extensions, or a trailer section, must fit. Without a bound a chunk extension or a trailer
// would grow without limit (neither counts toward the head limit), and a trailer field past
// what a header field may hold would throw inside the parser.
std::size_t input_limit(std::size_t max_header_bytes) {
  // Beast keeps a field's length in 16 bits and throws past it: a larger head limit is not
  // honoured beyond what the parser can hold.
  constexpr std::size_t kMaxField = 65'000;
  return std::min(max_header_bytes, kMaxField - kLingerChunk) + kLingerChunk;
}

// Transfer codings of a request as written, lower case and trimmed, in order (every
// Transfer-Encoding field; an empty piece stays, as an empty string).
std::vector<std::string> transfer_codings(const http::request_parser<http::string_body>& parser) {
  std::vector<std::string> out;
  const auto& req = parser.get();
  for (auto it = req.find(http::field::transfer_encoding);
       it != req.end() && it->name() == http::field::transfer_encoding; ++it) {
    const auto value = it->value();
    std::size_t start = 0;
    while (start <= value.size()) {
      auto end = value.find(',', start);
      if (end == beast::string_view::npos) end = value.size();
      std::string coding = to_string(value.substr(start, end - start));
      const auto first = coding.find_first_not_of(" \t");
      const auto last = coding.find_last_not_of(" \t");
      coding = first == std::string::npos ? std::string{} : coding.substr(first, last - first + 1);
      std::transform(coding.begin(), coding.end(), coding.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      out.push_back(std::move(coding));
      start = end + 1;
    }
  }
  return out;
}

struct Refusal {
  int status;
  std::string title;
  std::string detail;
};

// Why a request's Transfer-Encoding leaves its body's end in doubt (RFC 9112 6.1, 6.3, 7.1):
// in HTTP/1.0, with chunked anything but the last coding (or with parameters), or with a
// coding this server does not apply. nullopt when the body is plainly chunked, or not coded.
std::optional<Refusal> framing_refusal(const http::request_parser<http::string_body>& parser) {
  if (parser.get().count(http::field::transfer_encoding) == 0) return std::nullopt;
  if (parser.get().version() < 11) {
    return Refusal{400, "Bad Request", "Transfer-Encoding is not allowed in an HTTP/1.0 request"};
  }
  const auto codings = transfer_codings(parser);
  if (codings.size() > 1) {  // a coding before the last: chunked again, or one not applied here
    const std::string& first = codings.front();
    const std::string name = first.substr(0, first.find(';'));
    const bool token = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
             std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    });
    if (!token || name == "chunked") {
      return Refusal{400, "Bad Request", "chunked must be the one and final transfer coding"};
    }
    return Refusal{501, "Not Implemented",
                   "transfer coding " + name.substr(0, 40) + " is not supported"};
  }
  // The parser must read the body as chunked too, or the two would disagree on its end.
  if (codings.empty() || codings.back() != "chunked" || !parser.chunked()) {
    return Refusal{400, "Bad Request", "the final transfer coding of a request must be chunked"};
  }
  return std::nullopt;
}

// A Host value as RFC 9112 3.2 allows it: a host (a name, an IPv4 or a bracketed IPv6
// address) and an optional port; empty is allowed.
bool valid_host(beast::string_view host) {
  for (const char c : host) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) != 0 ||
                    std::string_view("-._~!$&'()*+,;=:[]%").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

// A Sec-WebSocket-Key: base64 of 16 bytes (RFC 6455 4.1), 22 characters and "==".
bool valid_websocket_key(beast::string_view key) {
  if (key.size() != 24 || key.substr(22) != "==") return false;
  for (std::size_t i = 0; i < 22; ++i) {
    const char c = key[i];
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '+' && c != '/') return false;
  }
  // The last character before the padding carries 2 bits of data and 4 zero bits.
  return std::string_view("AQgw").find(key[21]) != std::string_view::npos;
}

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
      HttpResponse r =
          problem(503, "Service Unavailable", std::string(e.what()) + "; try again later");
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

// One HTTP connection: reads requests under the size and time limits, hands each to a worker
// and writes the answer, until the client or a limit closes it. Every member is touched on
// the connection's strand only.
class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket socket, ServerCore& core)
      : stream_(std::move(socket)),
        request_timer_(stream_.get_executor()),
        buffer_(input_limit(core.options.max_header_bytes)),
        core_(core) {
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
    // Empty lines before a request line are skipped (RFC 9112 2.2): some clients send one
    // after a body.
    buffer_.consume(leading_blank_bytes());
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
    if (auto refusal = framing_refusal(*parser_)) {
      // The body's end is unknown: answered once, and the connection closed after it.
      end_reading();
      reject(refusal->status, std::move(refusal->title), std::move(refusal->detail));
      return;
    }
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

  // CR and LF bytes at the start of the unparsed input: empty lines before a request line.
  std::size_t leading_blank_bytes() const {
    const auto* bytes = static_cast<const char*>(buffer_.data().data());
    std::size_t n = 0;
    while (n < buffer_.size() && (bytes[n] == '\r' || bytes[n] == '\n')) ++n;
    return n;
  }

  // RFC 9112 2.3: a request of a later HTTP/1 minor version is served as the highest this
  // server implements. Beast reads 1.0 and 1.1 only, so a request line ending in HTTP/1.2 to
  // HTTP/1.9 is rewritten in the buffer to HTTP/1.1 before it is read again.
  bool serve_later_minor_as_11() {
    const auto data = buffer_.data();
    auto* bytes = static_cast<char*>(data.data());
    const std::string_view text(bytes, data.size());
    const auto end = text.find("\r\n");
    constexpr std::string_view kMajor = " HTTP/1.";
    if (end == std::string_view::npos || end < kMajor.size() + 1) return false;
    const char minor = text[end - 1];
    if (text.substr(end - kMajor.size() - 1, kMajor.size()) != kMajor || minor < '2' ||
        minor > '9') {
      return false;
    }
    bytes[end - 1] = '1';
    return true;
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
    } else if (ec == http::error::header_limit) {
      reject(431, "Request Header Fields Too Large",
             "the request header exceeds " + std::to_string(core_.options.max_header_bytes) +
                 " bytes");
    } else if (ec == http::error::buffer_overflow) {
      reject(431, "Request Header Fields Too Large",
             "the request header, a chunk header or the trailer exceeds " +
                 std::to_string(core_.options.max_header_bytes) + " bytes");
    } else if (!blank_skipped_ && !parser_->is_header_done() && leading_blank_bytes() > 0) {
      // Empty lines before the request line: skipped once (begin_request drops them).
      blank_skipped_ = true;
      begin_request();
    } else if (ec == http::error::bad_version && !parser_->is_header_done() &&
               serve_later_minor_as_11()) {
      begin_request();  // the same request again, now read as HTTP/1.1
    } else if (ec == http::error::bad_version) {
      reject(505, "HTTP Version Not Supported", "this server speaks HTTP/1.0 and HTTP/1.1");
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
    blank_skipped_ = false;
    const auto& req = parser_->get();
    started_ = SteadyClock::now();
    method_ = to_string(req.method_string());
    const auto target = req.target();
    const bool asterisk = target == "*" && req.method() == http::verb::options;
    if (!asterisk && !target.starts_with('/') && target.find("://") == beast::string_view::npos) {
      reject(400, "Bad Request", "the request target must be a path starting with /");
      return;
    }
    const auto hosts = req.count(http::field::host);
    if (hosts > 1 || (version_ >= 11 && hosts == 0) ||
        (hosts == 1 && !valid_host(req[http::field::host]))) {
      reject(400, "Bad Request", "an HTTP/1.1 request needs exactly one valid Host header");
      return;
    }
    if (asterisk) {
      HttpResponse any;
      any.status = 204;
      any.headers.emplace_back("Allow", "GET, HEAD, POST, PUT, PATCH, DELETE");
      keep_alive_ = req.keep_alive();
      respond(std::move(any));
      return;
    }
    const auto parts = split_target(std::string_view(target.data(), target.size()));
    auto path = percent_decode(parts.path);
    auto query = parse_query(parts.query);
    path_ = path ? *path : std::string(parts.path);
    if (!path || !query) {
      reject(400, "Bad Request", "malformed percent-encoding in the request target");
      return;
    }

    HttpRequest request;
    // HEAD keeps its name: the router answers it with the GET route, and the body is dropped.
    request.method = method_;
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
    // An encoded slash is part of a segment, never a separator, and no segment of ours holds one.
    if (parts.path.find("%2F") != std::string_view::npos ||
        parts.path.find("%2f") != std::string_view::npos) {
      respond(problem(404, "Not Found", "no such resource: " + request.path));
      return;
    }

    const auto strand = stream_.get_executor();
    if (websocket::is_upgrade(req) && split_path(request.path) == std::vector<std::string>{"ws"}) {
      // A handshake Beast would refuse with a plain-text page is refused here, as problem JSON:
      // RFC 6455 version 13 only (426 says which), and a key to answer.
      if (req[http::field::sec_websocket_version] != "13") {
        auto old = problem(426, "Upgrade Required",
                           "this server speaks WebSocket version 13 (RFC 6455) only");
        old.headers.emplace_back("Sec-WebSocket-Version", "13");
        old.headers.emplace_back("Upgrade", "websocket");
        keep_alive_ = false;
        respond(std::move(old));
        return;
      }
      if (!valid_websocket_key(req[http::field::sec_websocket_key])) {
        keep_alive_ = false;
        respond(problem(400, "Bad Request",
                        "a WebSocket handshake needs a Sec-WebSocket-Key of 16 base64 bytes"));
        return;
      }
      net::post(core_.workers, [self = shared_from_this(), strand, request = std::move(request)] {
        std::optional<Principal> principal;
        std::optional<int> unavailable;  // Retry-After seconds when a dependency is down
        try {
          principal = self->core_.hub.authenticate(request);
        } catch (const DependencyUnavailable& e) {
          unavailable = e.retry_after_s();
        } catch (const std::exception& e) {
          spdlog::warn("websocket authentication failed: {}", events::error_summary(e));
        }
        net::post(strand, [self, principal = std::move(principal), unavailable]() mutable {
          if (unavailable) {
            auto busy =
                problem(503, "Service Unavailable", "the database is unavailable; try again later");
            busy.headers.emplace_back("Retry-After", std::to_string(*unavailable));
            self->keep_alive_ = false;
            self->respond(std::move(busy));
            return;
          }
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
    start_websocket(stream_.release_socket(), parser_->release(), core_.registry, *principal,
                    core_.options.websocket_lifetime);
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
  bool blank_skipped_ = false;  // this request's leading empty lines were skipped already
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
    const int io_threads = opts.io_threads > 0
                               ? opts.io_threads
                               : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
    threads_.reserve(static_cast<std::size_t>(io_threads));
    for (int i = 0; i < io_threads; ++i) threads_.emplace_back([this] { run_io(); });
    spdlog::info("http server listening on {}:{} with {} I/O and {} request threads", opts.host,
                 port_, io_threads, std::max(1, opts.threads));
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
  // An exception out of a connection's handler ends that connection (its handlers are gone
  // with it), never the process: the thread logs it and goes on serving the others.
  void run_io() {
    for (;;) {
      try {
        core_.io.run();
        return;
      } catch (const std::exception& e) {
        spdlog::error("a connection failed unexpectedly and was dropped: {}", e.what());
      }
    }
  }

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
                             try {
                               std::make_shared<HttpSession>(std::move(socket), core_)->start();
                             } catch (const std::exception& e) {
                               spdlog::error("a connection could not be served: {}", e.what());
                             }
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
