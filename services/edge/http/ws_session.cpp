#include "http/ws_session.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <deque>
#include <memory>

namespace bazaar::edge {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

// A client that leaves this many frames unread is gone or hostile: drop it rather than grow.
constexpr std::size_t kMaxQueuedFrames = 1000;
// Clients have nothing to say on /ws; a small limit keeps a hostile one from filling memory.
constexpr std::size_t kMaxClientFrameBytes = 64 * 1024;

// One WebSocket connection: pushes queued text frames one at a time and discards what the
// client sends. Every member is touched on the connection's strand only.
class WsSession final : public WsOutlet, public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(tcp::socket socket, WsRegistry& registry, Principal who,
            std::chrono::milliseconds lifetime)
      : ws_(std::move(socket)),
        lifetime_timer_(ws_.get_executor()),
        registry_(registry),
        who_(std::move(who)),
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

  void send(std::shared_ptr<const std::string> text) override {
    net::post(ws_.get_executor(), [self = shared_from_this(), text = std::move(text)]() mutable {
      if (!self->open_ || self->closing_) return;
      if (self->queue_.size() >= kMaxQueuedFrames) {
        spdlog::warn("websocket of user {} dropped: {} frames unread", self->who_.user_id,
                     self->queue_.size());
        self->finish({});
        beast::get_lowest_layer(self->ws_).close();
        return;
      }
      self->queue_.push_back(std::move(text));
      if (self->queue_.size() == 1) self->write();
    });
  }

  void close() override {
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
    id_ = registry_.add(who_, weak_from_this());
    if (id_ == 0) {
      closing_ = true;
      ws_.async_close(websocket::close_code::going_away,
                      [self = shared_from_this()](beast::error_code) {});
      return;
    }
    open_ = true;
    spdlog::debug("websocket opened for user {}", who_.user_id);
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
      spdlog::debug("websocket of user {} ended: {}", who_.user_id, ec.message());
    } else {
      spdlog::debug("websocket of user {} closed", who_.user_id);
    }
  }

  websocket::stream<beast::tcp_stream> ws_;
  net::steady_timer lifetime_timer_;
  http::request<http::string_body> upgrade_;
  beast::flat_buffer buffer_;
  std::deque<std::shared_ptr<const std::string>> queue_;
  WsRegistry& registry_;
  Principal who_;
  std::chrono::milliseconds lifetime_;
  std::uint64_t id_ = 0;
  bool open_ = false;
  bool closing_ = false;
};

}  // namespace

void start_websocket(tcp::socket socket, http::request<http::string_body> upgrade,
                     WsRegistry& registry, Principal who, std::chrono::milliseconds lifetime) {
  std::make_shared<WsSession>(std::move(socket), registry, std::move(who), lifetime)
      ->run(std::move(upgrade));
}

}  // namespace bazaar::edge
