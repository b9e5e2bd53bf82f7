#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <string>

namespace bazaar::events {

/// Opens, binds and listens `acceptor` on `host:port`. A taken port throws StartupError
/// (ExitCode::port_in_use) naming the address, so the process says why it cannot start.
void listen(boost::asio::ip::tcp::acceptor& acceptor, const std::string& host, std::uint16_t port);

}  // namespace bazaar::events
