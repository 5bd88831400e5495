"""A tiny, valid set of input tables as inline CSV, for contract and flow tests.

One apparel brand: two SKUs, one overseas supplier with ocean and air options, a warehouse that
serves Shopify and Walmart, Amazon FBA fed by a transfer lane. Tests copy it, break one thing,
and check the report names exactly that.
"""

from __future__ import annotations

from pathlib import Path

AS_OF = "2026-11-30"

VALID_TABLES: dict[str, str] = {
    "items": (
        "sku,description,category,unit_cost,selling_price,unit_volume,case_pack,status,launch_date,service_class\n"
        "TEE-001,Organic tee black M,Apparel,7.80,28.00,0.9,24,active,,A\n"
        "HOOD-020,Fleece hoodie sand L,Apparel,16.40,64.00,2.6,12,active,,B\n"
        "CAP-300,Logo cap,Accessories,3.10,19.00,0.5,50,new,2027-01-11,C\n"
    ),
    "locations": (
        "location,type,capacity,capacity_unit,channels\n"
        "WH-EAST,warehouse,250000,units,shopify;walmart\n"
        "FBA-US,marketplace,40000,units,amazon\n"
    ),
    "suppliers": (
        "supplier,name,currency,po_minimum_value,fixed_cost_per_po,weekly_capacity_units,deposit_share\n"
        "SHENZHEN-TEX,Shenzhen Textile Co.,USD,15000,450,20000,0.3\n"
        "DALLAS-CAPS,Dallas Caps LLC,USD,0,50,,1\n"
    ),
    "sourcing_options": (
        "sku,supplier,ship_to,mode,unit_cost,moq,order_multiple,lead_time_weeks,lead_time_std_weeks\n"
        "TEE-001,SHENZHEN-TEX,WH-EAST,ocean,6.90,600,24,10,1.5\n"
        "TEE-001,SHENZHEN-TEX,WH-EAST,air,8.10,120,24,3,0.5\n"
        "HOOD-020,SHENZHEN-TEX,WH-EAST,ocean,15.20,300,12,10,1.5\n"
        "CAP-300,DALLAS-CAPS,WH-EAST,truck,3.10,100,50,1,0\n"
    ),
    "transfer_lanes": (
        "from_location,to_location,lead_time_weeks,cost_per_unit,min_shipment\nWH-EAST,FBA-US,2,0.45,200\n"
    ),
    "inventory": (
        "sku,location,on_hand,allocated,as_of_date\n"
        "TEE-001,WH-EAST,420,35,2026-11-30\n"
        "TEE-001,FBA-US,150,0,2026-11-30\n"
        "HOOD-020,WH-EAST,90,4,2026-11-30\n"
    ),
    "open_orders": (
        "order_id,sku,origin,origin_type,destination,quantity,expected_arrival\n"
        "PO-10422,TEE-001,SHENZHEN-TEX,supplier,WH-EAST,1200,2026-12-21\n"
        "TR-881,TEE-001,WH-EAST,location,FBA-US,240,2026-12-07\n"
    ),
    "demand_history": (
        "date,sku,location,channel,units,price,in_stock\n"
        "2026-11-16,TEE-001,WH-EAST,shopify,14,28.0,true\n"
        "2026-11-16,TEE-001,FBA-US,amazon,9,30.0,true\n"
        "2026-11-16,HOOD-020,WH-EAST,walmart,3,64.0,true\n"
        "2026-11-23,TEE-001,WH-EAST,shopify,16,28.0,true\n"
        "2026-11-23,TEE-001,FBA-US,amazon,0,30.0,false\n"
        "2026-11-23,HOOD-020,WH-EAST,walmart,5,64.0,true\n"
    ),
    "supplier_closures": "supplier,start_date,end_date,reason\nSHENZHEN-TEX,2027-02-01,2027-02-21,Chinese New Year\n",
    "budgets": (
        "period_start,period,cash_limit,currency,category,supplier\n"
        "2026-11-30,week,60000,USD,,\n"
        "2026-12-07,week,40000,USD,,\n"
        "2026-12-01,month,90000,USD,Apparel,\n"
    ),
    "service_targets": "scope,scope_value,metric,target\nall,,fill_rate,0.95\nservice_class,A,fill_rate,0.98\n",
    "channel_reservations": "location,channel,category,reserved_units,weeks_of_cover\nWH-EAST,shopify,,,2\n",
    "locked_orders": (
        "order_id,sku,supplier,ship_to,mode,order_date,quantity\n"
        "APPROVED-77,TEE-001,SHENZHEN-TEX,WH-EAST,ocean,2026-12-07,1200\n"
    ),
}


def write_tables(folder: Path, tables: dict[str, str]) -> Path:
    """Write inline CSV tables as ``<name>.csv`` files into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in tables.items():
        (folder / f"{name}.csv").write_text(text)
    return folder
