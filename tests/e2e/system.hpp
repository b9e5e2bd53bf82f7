#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "events/clock.hpp"
#include "events/envelope.hpp"
#include "events/producer.hpp"
#include "events/uuid.hpp"
#include "harness.hpp"

namespace soci {
class session;
}

namespace bazaar::e2e {

using Env = std::map<std::string, std::string>;

/// The services that run an order, each a real process of its own.
inline const std::vector<std::string> kServices{"catalog", "inventory", "payment", "order",
                                                "notification"};

/// Every service started as a real process against the test broker and databases, each
/// waited for until its /health/ready answers 200. Stopped with SIGTERM when destroyed.
class System {
 public:
  /// `overrides` adds environment variables per service name; `services` are started in order.
  explicit System(std::map<std::string, Env> overrides = {},
                  std::vector<std::string> services = kServices);
  ~System();
  System(const System&) = delete;
  System& operator=(const System&) = delete;

  void start(const std::string& service);
  /// Starts an instance of `service` named `instance` (a second instance of a consumer
  /// service joins the same groups) with `extra` settings; waits for it to be ready unless
  /// `wait_ready` is false (an instance armed to crash may not get that far).
  void start_instance(const std::string& instance, const std::string& service, const Env& extra,
                      bool wait_ready = true);
  /// The instance's process id (0 when it is not running).
  int pid(const std::string& instance) const;
  /// The port of the instance's admin server (/metrics, /health/*).
  std::uint16_t admin_port(const std::string& instance) const { return admin_ports_.at(instance); }
  /// Sends `sig` to the instance (SIGSTOP / SIGCONT to freeze and thaw it).
  void signal(const std::string& instance, int sig);
  /// Waits for the instance to exit on its own; its exit code, or -1 after `timeout`. The
  /// instance is forgotten once it exited.
  int await_exit(const std::string& instance, std::chrono::milliseconds timeout);
  /// SIGKILL: no clean leave, no flush; whatever was in flight is in flight.
  void kill(const std::string& service);
  /// SIGTERM, and checks the process exits 0 in time.
  void stop(const std::string& service);
  /// A connection to a service's own database (tests read it to check invariants).
  soci::session& db(const std::string& service);
  /// Drops the test's own database connections (after a PostgreSQL restart): db() opens
  /// new ones.
  void reconnect_dbs();

 private:
  std::map<std::string, Env> overrides_;
  std::map<std::string, std::unique_ptr<tests::ChildProcess>> processes_;
  std::map<std::string, std::uint16_t> admin_ports_;
  std::map<std::string, std::unique_ptr<soci::session>> dbs_;
  std::string log_dir_;
};

/// Sends commands and events to the topics the way the edge or another service would.
class Bus {
 public:
  Bus();
  std::string new_id();
  /// Publishes one event; `twice` sends the very same record (same ce_id) a second time;
  /// `cause` is its ce_causationid (none when empty).
  events::Envelope send(const std::string& topic, const std::string& type, const std::string& key,
                        boost::json::object payload, bool twice = false,
                        const std::string& cause = {});
  /// Publishes one event of `type` for each key and payload, all handed to the producer at
  /// once (as a relay pass sends what it read); returns the keys' envelopes in order.
  std::vector<events::Envelope> send_all(
      const std::string& topic, const std::string& type,
      std::vector<std::pair<std::string, boost::json::object>> events);

 private:
  events::Envelope make(const std::string& type, const std::string& key,
                        boost::json::object payload, const std::string& cause);

  events::SystemClock clock_;
  events::UuidV7Generator ids_{clock_, events::system_random()};
  events::EnvelopeFactory factory_{"e2e", clock_, ids_, events::system_random()};
  events::Producer producer_{tests::required_env("BAZAAR_KAFKA_BROKERS")};
};

/// A tiny HTTP/1.1 server on loopback that records POST bodies, answering 500 to the first
/// `fail_first` requests and 200 afterwards: the other end of the notification webhook.
class WebhookReceiver {
 public:
  /// Answers the first `fail_first` requests with `failure` (a whole HTTP response; empty: a
  /// 500) and the others with `success` (empty: a 204).
  explicit WebhookReceiver(int fail_first, std::string failure = {}, std::string success = {});
  ~WebhookReceiver();
  std::string url() const;
  /// http://127.0.0.1:port, for a client that adds its own path.
  std::string base_url() const;
  /// The bodies of the requests answered with success.
  std::vector<std::string> bodies() const;
  /// Every request's target (path) and when it arrived, in order.
  std::vector<std::pair<std::string, std::chrono::steady_clock::time_point>> arrivals() const;
  int requests() const { return requests_.load(); }

 private:
  void serve();
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  int fail_first_;
  std::string failure_;
  std::string success_;
  std::vector<std::pair<std::string, std::chrono::steady_clock::time_point>> arrivals_;
  std::atomic<int> requests_{0};
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::vector<std::string> bodies_;
  std::thread thread_;
};

/// What a bazaarctl run printed (stdout and stderr) and its exit code.
struct Run {
  int code = -1;
  std::string out;          ///< standard output, then standard error
  std::string stdout_text;  ///< standard output alone
};

/// Runs bazaarctl with `args` against the test broker (or `brokers`) until it exits.
Run bazaarctl(const std::vector<std::string>& args, const std::string& brokers = {});

/// Scenario steps shared by the end-to-end tests.
struct Shop {
  System& system;
  Bus& bus;

  /// A product listed through the catalog, with `stock` units, once the order service and
  /// inventory both know it.
  std::string list_product(const std::string& seller, long long price, long long stock,
                           bool twice = false);
  /// Places an order of `quantity` units of one product; returns the order id.
  std::string place(const std::string& buyer, const std::string& product, long long quantity,
                    const std::string& token, bool twice = false);
  /// Places one such order for each of `buyers`, sent together; returns the order ids in the
  /// buyers' order.
  std::vector<std::string> place_all(const std::vector<std::string>& buyers,
                                     const std::string& product, long long quantity,
                                     const std::string& token);
  /// Waits until the order reached one of CONFIRMED, REJECTED, CANCELLED (or `wanted`).
  std::string wait_status(const std::string& order_id, const std::set<std::string>& wanted,
                          std::chrono::seconds timeout = std::chrono::seconds{60});
  std::string status(const std::string& order_id);
  std::string reason(const std::string& order_id);
  /// available, reserved, sold, on_hand of a product in the inventory database.
  std::array<long long, 4> stock(const std::string& product);
  /// charged and refunded amounts of an order in the payment database.
  std::pair<long long, long long> money(const std::string& order_id);
  long long total(const std::string& order_id);
  /// How many notifications of `kind` about `order_id` were created for `recipient`.
  long long notifications(const std::string& order_id, const std::string& kind,
                          const std::string& recipient);

  /// DESIGN.md's four invariants, checked against the databases for these orders and
  /// products: no oversell, one outcome each, money balances, nothing left unpublished.
  /// Each broken one fails the test; returns how many were broken.
  int check_invariants(const std::vector<std::string>& orders,
                       const std::vector<std::string>& products);
};

}  // namespace bazaar::e2e
