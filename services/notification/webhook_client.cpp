// The only translation unit of the notification service that includes Beast: it costs about
// 30 s and close to 1 GB to compile, so nothing else may pull it in.
#include "webhook_client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <exception>
#include <optional>

#include "delivery_policy.hpp"

namespace bazaar::notification {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

constexpr std::uint32_t kMaxResponseHeaderBytes = 8 * 1024;

PostOutcome failure(const char* step, const boost::system::error_code& ec) {
  return {0, std::string(step) + ": " + ec.message()};
}

// Parameters by value: the coroutine outlives the caller's expressions.
net::awaitable<PostOutcome> exchange(WebhookUrl url, WebhookLimits limits, std::string json,
                                     std::string key) {
  auto executor = co_await net::this_coro::executor;
  boost::system::error_code ec;
  auto token = net::redirect_error(net::use_awaitable, ec);

  // One deadline for connect, write and read together: a receiver that trickles its answer
  // cannot hold the sender longer than the timeout.
  beast::tcp_stream stream(executor);
  stream.expires_after(limits.timeout);

  tcp::resolver resolver(executor);
  const auto endpoints = co_await resolver.async_resolve(url.host, std::to_string(url.port), token);
  if (ec) co_return failure("resolve", ec);
  co_await stream.async_connect(endpoints, token);
  if (ec) co_return failure("connect", ec);

  http::request<http::string_body> request{http::verb::post, url.target, 11};
  request.set(http::field::host, url.host_header());
  request.set(http::field::user_agent, "bazaar-notification");
  request.set(http::field::content_type, "application/json");
  request.set(http::field::connection, "close");
  request.set("Idempotency-Key", key);
  request.body() = std::move(json);
  request.prepare_payload();
  co_await http::async_write(stream, request, token);
  if (ec) co_return failure("write", ec);

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.header_limit(kMaxResponseHeaderBytes);
  parser.body_limit(limits.max_response_bytes);
  co_await http::async_read(stream, buffer, parser, token);
  // A receiver that answered with a status but a body over our limit still answered.
  if (ec && !(ec == http::error::body_limit && parser.is_header_done())) {
    co_return failure("read", ec);
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  const auto& response = parser.get();
  const int status = static_cast<int>(response.result_int());
  co_return PostOutcome{status,
                        {},
                        retry_after_of(status, response.body(),
                                       std::string_view(response[http::field::retry_after]))};
}

}  // namespace

WebhookClient::WebhookClient(WebhookUrl url, WebhookLimits limits)
    : url_(std::move(url)), limits_(limits) {}

PostOutcome WebhookClient::post(const std::string& json, const std::string& key) const {
  if (json.size() > limits_.max_request_bytes) {
    return {0, "request body of " + std::to_string(json.size()) + " bytes is over the limit"};
  }
  net::io_context io;
  std::optional<PostOutcome> outcome;
  net::co_spawn(io, exchange(url_, limits_, json, key),
                [&outcome](std::exception_ptr error, PostOutcome result) {
                  if (!error) {
                    outcome = std::move(result);
                    return;
                  }
                  try {
                    std::rethrow_exception(error);
                  } catch (const std::exception& e) {
                    outcome = PostOutcome{0, e.what()};
                  }
                });
  // The stream's deadline does not cover name resolution: this bounds the whole exchange.
  io.run_for(limits_.timeout + std::chrono::seconds{1});
  if (!outcome) return {0, "no answer within the deadline"};
  return *outcome;
}

}  // namespace bazaar::notification
