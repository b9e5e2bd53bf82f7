#include <doctest/doctest.h>

#include <chrono>
#include <memory>

#include "events/clock.hpp"
#include "events/envelope.hpp"
#include "events/uuid.hpp"
#include "inventory_events.hpp"

using namespace bazaar;
using namespace bazaar::inventory;

namespace {

events::RandomSource counting() {
  auto n = std::make_shared<std::uint64_t>(1);
  return [n] { return (*n)++ * 0x9e3779b97f4a7c15ULL; };
}

struct Stamps {
  events::ManualClock clock{events::Clock::time_point{std::chrono::seconds{1'767'323'045}}};
  events::UuidV7Generator ids{clock, counting()};
  events::EnvelopeFactory factory{"inventory", clock, ids, counting()};

  events::Envelope command(const std::string& order_id) {
    return factory.make("bazaar.inventory.ReserveStock.v1", order_id, boost::json::object{});
  }
};

const std::string kLamp = "0190f5e2-0000-7000-8000-00000000000a";
const std::string kDesk = "0190f5e2-0000-7000-8000-00000000000b";

long long available(const events::Envelope& e) {
  return e.data.at("available").to_number<long long>();
}

}  // namespace

TEST_CASE(
    "a transaction's levels go out once per product, the last one, caused by its last mover") {
  Stamps s;
  events::Envelope first = s.command("0190f5e2-0000-7000-8000-000000000001");
  first.correlation_id = "0190f5e2-0000-7000-8000-000000000001";
  events::Envelope last = s.command("0190f5e2-0000-7000-8000-000000000002");
  last.correlation_id = "0190f5e2-0000-7000-8000-000000000002";
  LevelChanges levels;
  levels.moved(s.factory, &first, kLamp, reserve(initial_stock(10), 1));
  levels.moved(s.factory, &first, kDesk, reserve(initial_stock(5), 2));
  levels.moved(s.factory, &last, kLamp, reserve(initial_stock(10), 3));

  const auto out = levels.take();
  REQUIRE(out.size() == 2);
  CHECK(out[0].subject == kLamp);  // product id order
  CHECK(out[0].type == "bazaar.inventory.StockLevelChanged.v1");
  CHECK(available(out[0]) == 7);
  CHECK(out[0].causation_id == last.id);
  CHECK(out[0].correlation_id == last.correlation_id);
  CHECK(out[1].subject == kDesk);
  CHECK(available(out[1]) == 3);
  CHECK(out[1].causation_id == first.id);
  CHECK(levels.take().empty());
}

TEST_CASE("an event sent in place drops the pending level of its product until it moves again") {
  Stamps s;
  const events::Envelope cause = s.command("0190f5e2-0000-7000-8000-000000000003");
  LevelChanges levels;
  levels.moved(s.factory, &cause, kLamp, reserve(initial_stock(10), 1));
  levels.superseded(kLamp);
  CHECK(levels.take().empty());

  levels.moved(s.factory, &cause, kLamp, reserve(initial_stock(10), 1));
  levels.superseded(kLamp);
  levels.moved(s.factory, &cause, kLamp, reserve(initial_stock(10), 4));
  const auto out = levels.take();
  REQUIRE(out.size() == 1);
  CHECK(available(out[0]) == 6);
}

TEST_CASE("a level moved by no record names the order it was correlated to and no cause") {
  Stamps s;
  LevelChanges levels;
  const std::string order = "0190f5e2-0000-7000-8000-000000000004";
  levels.moved(s.factory, nullptr, kLamp, release(reserve(initial_stock(2), 2), 2), order);
  const auto out = levels.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].correlation_id == order);
  CHECK(out[0].causation_id.empty());
  CHECK(available(out[0]) == 2);

  levels.moved(s.factory, nullptr, kLamp, initial_stock(2), order);
  levels.clear();
  CHECK(levels.take().empty());
}
