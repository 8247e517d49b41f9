package billing

import (
	"testing"
	"time"
)

func qp(s string) *Quantity {
	q, err := ParseQuantity(s)
	if err != nil {
		panic(err)
	}
	return &q
}

// The tiers of the examples: 0–1000 at 2 each, 1000–5000 at 1 each plus 100
// flat, above at 0.5 each.
var exampleTiers = []Tier{
	{UpTo: qp("1000"), UnitAmount: MoneyFromInt64(2)},
	{UpTo: qp("5000"), UnitAmount: MoneyFromInt64(1), FlatAmount: MoneyFromInt64(100)},
	{UnitAmount: MustMoney("0"), FlatAmount: MoneyFromInt64(7)},
}

func TestPriceAmount(t *testing.T) {
	grad := Price{Model: PricingGraduated, Tiers: exampleTiers}
	vol := Price{Model: PricingVolume, Tiers: exampleTiers}
	half := []Tier{{UpTo: qp("10"), UnitAmount: MoneyFromInt64(3)}, {UnitAmount: MoneyFromInt64(1)}}
	pkg := Price{Model: PricingPackage, UnitAmount: MoneyFromInt64(500), PackageSize: 100}
	for _, c := range []struct {
		name string
		p    Price
		q    string
		want string
	}{
		// Worked by hand, tier by tier.
		{"graduated zero", grad, "0", "0"},
		{"graduated negative", grad, "-5", "0"},
		{"graduated in first", grad, "999", "1998"},
		{"graduated at first bound", grad, "1000", "2000"},
		{"graduated just past bound", grad, "1001", "2101"},                               // 2000 + 1 + 100 flat
		{"graduated at second bound", grad, "5000", "6100"},                               // 2000 + 4000 + 100
		{"graduated in last", grad, "5001", "6107"},                                       // + 0 + 7 flat
		{"graduated fraction", Price{Model: PricingGraduated, Tiers: half}, "10.5", "31"}, // 30 + 0.5 → 30.5 rounds half away
		{"volume in first", vol, "1000", "2000"},
		{"volume past bound", vol, "1001", "1101"}, // every unit at 1, + 100
		{"volume last", vol, "9000", "7"},
		{"volume zero", vol, "0", "0"},
		{"package one unit", pkg, "1", "500"},
		{"package exact", pkg, "200", "1000"},
		{"package started", pkg, "200.001", "1500"},
		{"package zero", pkg, "0", "0"},
		{"per unit negative credit", Price{UnitAmount: MoneyFromInt64(3)}, "-2", "-6"},
		{"per unit half rounds away", Price{Model: PricingPerUnit, UnitAmount: MoneyFromInt64(3)}, "0.5", "2"},
	} {
		q, err := ParseQuantity(c.q)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.p.Amount(q)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got.String() != c.want {
			t.Errorf("%s: Amount(%s) = %s, want %s", c.name, c.q, got, c.want)
		}
	}
}

func TestPriceAmountOverflowFails(t *testing.T) {
	p := Price{Model: PricingGraduated, Tiers: []Tier{{UnitAmount: MustMoney("170141183460469231731687303715884105727")}}}
	if _, err := p.Amount(QuantityFromInt64(2)); err == nil {
		t.Fatal("an amount past 128 bits was accepted")
	}
}

func TestPriceCheck(t *testing.T) {
	for _, c := range []struct {
		name  string
		p     Price
		field string
	}{
		{"unknown model", Price{Model: "Tiered"}, "pricing_model"},
		{"graduated without tiers", Price{Model: PricingGraduated}, "tiers"},
		{"graduated with unit amount", Price{Model: PricingGraduated, UnitAmount: MoneyFromInt64(1), Tiers: exampleTiers}, "unit_amount_nanos"},
		{"last tier bounded", Price{Model: PricingVolume, Tiers: []Tier{{UpTo: qp("5")}}}, "tiers[0].up_to"},
		{"middle tier unbounded", Price{Model: PricingVolume, Tiers: []Tier{{}, {}}}, "tiers[0].up_to"},
		{"bounds not increasing", Price{Model: PricingVolume, Tiers: []Tier{{UpTo: qp("5")}, {UpTo: qp("5")}, {}}}, "tiers[1].up_to"},
		{"zero bound", Price{Model: PricingVolume, Tiers: []Tier{{UpTo: qp("0")}, {}}}, "tiers[0].up_to"},
		{"negative tier", Price{Model: PricingVolume, Tiers: []Tier{{FlatAmount: MoneyFromInt64(-1)}}}, "tiers[0]"},
		{"package without size", Price{Model: PricingPackage, UnitAmount: MoneyFromInt64(1)}, "package_size"},
		{"tiers on per unit", Price{Model: PricingPerUnit, Tiers: exampleTiers}, "tiers"},
		{"package size on volume", Price{Model: PricingVolume, Tiers: exampleTiers, PackageSize: 3}, "package_size"},
		{"negative unit", Price{UnitAmount: MoneyFromInt64(-1)}, "unit_amount_nanos"},
	} {
		pe := c.p.Check()
		if pe == nil || pe.Field != c.field {
			t.Errorf("%s: Check() = %v, want an error on %s", c.name, pe, c.field)
		}
		if _, err := c.p.Amount(QuantityFromInt64(1)); err == nil {
			t.Errorf("%s: Amount accepted an unusable price", c.name)
		}
	}
	if pe := (Price{Model: PricingGraduated, Tiers: exampleTiers}).Check(); pe != nil {
		t.Errorf("a good price refused: %v", pe)
	}
}

func TestProrate(t *testing.T) {
	day := 24 * time.Hour
	fee := MoneyFromInt64(31_000_000_000_000) // $31
	for _, c := range []struct {
		part, whole time.Duration
		want        string
	}{
		{27 * day, 31 * day, "27000000000000"},
		{31 * day, 31 * day, "31000000000000"},
		{40 * day, 31 * day, "31000000000000"},
		{0, 31 * day, "0"},
		{-day, 31 * day, "0"},
		{time.Second, 3 * time.Second, "10333333333333"}, // 10.333…: rounds down
		{2 * time.Second, 3 * time.Second, "20666666666667"},
	} {
		if got := Prorate(fee, c.part, c.whole).String(); got != c.want {
			t.Errorf("Prorate(%v of %v) = %s, want %s", c.part, c.whole, got, c.want)
		}
	}
}
