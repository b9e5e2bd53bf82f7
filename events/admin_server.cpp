#include "events/admin_server.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <thread>

#include "events/listen.hpp"

namespace bazaar::events {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr auto kReadTimeout = std::chrono::seconds{5};
constexpr std::size_t kMaxRequestBytes = 8 * 1024;

}  // namespace

class AdminServer::Impl {
 public:
  Impl(const std::string& host, std::uint16_t port, ReadinessCheck ready, MetricsRenderer metrics)
      : acceptor_(io_), ready_(std::move(ready)), metrics_(std::move(metrics)) {
    listen(acceptor_, host, port);
    accept();
    thread_ = std::thread([this] { io_.run(); });
  }

  ~Impl() {
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }

  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

 private:
  // One request per connection: operators' probes are short-lived and rare.
  struct Connection : std::enable_shared_from_this<Connection> {
    explicit Connection(tcp::socket socket, Impl& server)
        : stream(std::move(socket)), owner(server) {
      parser.header_limit(kMaxRequestBytes);
      parser.body_limit(kMaxRequestBytes);
    }
    beast::tcp_stream stream;
    beast::flat_buffer buffer;
    http::request_parser<http::empty_body> parser;
    http::response<http::string_body> response;
    Impl& owner;

    void start() {
      stream.expires_after(kReadTimeout);
      http::async_read(stream, buffer, parser,
                       [self = shared_from_this()](beast::error_code ec, std::size_t) {
                         if (!ec) self->respond();
                       });
    }

    void respond() {
      const auto& request = parser.get();
      response = owner.handle(request.method(), std::string(request.target()));
      response.version(request.version());
      response.keep_alive(false);
      response.prepare_payload();
      http::async_write(stream, response,
                        [self = shared_from_this()](beast::error_code, std::size_t) {
                          beast::error_code ignored;
                          self->stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
                        });
    }
  };

  void accept() {
    acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (!ec) std::make_shared<Connection>(std::move(socket), *this)->start();
      if (ec != asio::error::operation_aborted) accept();
    });
  }

  http::response<http::string_body> handle(http::verb method, const std::string& target) {
    http::response<http::string_body> res;
    const std::string path = target.substr(0, target.find('?'));
    if (method != http::verb::get && method != http::verb::head) {
      res.result(http::status::method_not_allowed);
      res.set(http::field::allow, "GET, HEAD");
      return problem(std::move(res), "Method Not Allowed", "only GET and HEAD are served here");
    }
    if (path == "/health/live") {
      res.result(http::status::ok);
      res.set(http::field::content_type, "application/json");
      res.body() = R"({"status":"live"})";
    } else if (path == "/health/ready") {
      boost::json::object checks;
      bool all = true;
      for (const auto& [name, ok] : ready_()) {
        checks[name] = ok ? "up" : "down";
        all = all && ok;
      }
      res.result(all ? http::status::ok : http::status::service_unavailable);
      res.set(http::field::content_type, "application/json");
      res.body() = boost::json::serialize(
          boost::json::object{{"status", all ? "ready" : "not_ready"}, {"checks", checks}});
    } else if (path == "/metrics") {
      res.result(http::status::ok);
      res.set(http::field::content_type, "text/plain; version=0.0.4");
      res.body() = metrics_();
    } else {
      res.result(http::status::not_found);
      return problem(std::move(res), "Not Found", "no such path: " + path);
    }
    return res;
  }

  static http::response<http::string_body> problem(http::response<http::string_body> res,
                                                   const std::string& title,
                                                   const std::string& detail) {
    res.set(http::field::content_type, "application/problem+json");
    res.body() = boost::json::serialize(boost::json::object{{"type", "about:blank"},
                                                            {"title", title},
                                                            {"status", res.result_int()},
                                                            {"detail", detail}});
    return res;
  }

  asio::io_context io_{1};
  tcp::acceptor acceptor_;
  ReadinessCheck ready_;
  MetricsRenderer metrics_;
  std::thread thread_;
};

AdminServer::AdminServer(const std::string& host, std::uint16_t port, ReadinessCheck ready,
                         MetricsRenderer metrics)
    : impl_(std::make_unique<Impl>(host, port, std::move(ready), std::move(metrics))) {}

AdminServer::~AdminServer() = default;

std::uint16_t AdminServer::port() const {
  return impl_->port();
}

}  // namespace bazaar::events
