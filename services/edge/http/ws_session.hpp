#pragma once

// Internal to the HTTP transport (http_server.cpp): Beast types in the interface.
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <string>

#include "http/ws_registry.hpp"

namespace bazaar::edge {

/// Completes the WebSocket handshake of `upgrade` on `socket` and runs the session: it joins
/// `registry` as `who`, pushes what is published to it, discards what the client
/// sends, and closes after `lifetime` (the access token's).
void start_websocket(boost::asio::ip::tcp::socket socket,
                     boost::beast::http::request<boost::beast::http::string_body> upgrade,
                     WsRegistry& registry, Principal who, std::chrono::milliseconds lifetime);

}  // namespace bazaar::edge
