#include "events/listen.hpp"

#include "events/startup.hpp"

namespace bazaar::events {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

void listen(boost::asio::ip::tcp::acceptor& acceptor, const std::string& host, std::uint16_t port) {
  const std::string where = host + ":" + std::to_string(port);
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) {
    throw StartupError(ExitCode::bad_config, "cannot listen on " + where + ": not an IP address");
  }
  const tcp::endpoint endpoint(address, port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec == asio::error::address_in_use) {
    throw StartupError(ExitCode::port_in_use, "port " + where + " is in use by another process");
  }
  if (ec) throw StartupError(ExitCode::failed, "cannot listen on " + where + ": " + ec.message());
}

}  // namespace bazaar::events
