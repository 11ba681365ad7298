"""Valid sample resources and one sample per message, shared by the schema tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from schemas.base import Message
from schemas.claims import Claim, NumaCellClaim, PciClaim, ResourceRequest
from schemas.compute import Flavor, Image, ImageLocation, ImageLocationKind
from schemas.instance import Instance
from schemas.messages import (
    agent_compute,
    agent_devices,
    agent_network,
    agent_storage,
    common,
    conductor_actions,
    conductor_catalog,
    conductor_hosts,
    conductor_networks,
    conductor_placement,
    conductor_servers,
    conductor_volumes,
    facts,
    host_facts,
    notifications,
    scheduler,
)
from schemas.messages.payloads import InstancePayload, PortPayload, VolumePayload
from schemas.network import FixedIp, Network, NetworkType, Port, Subnet, VnicType
from schemas.numa import NumaCell
from schemas.pci import PciDevice, PciDeviceType
from schemas.placement import Host, HostInventory, HostRole, HostUsage
from schemas.router import FloatingIp, Router, RouterInterface
from schemas.scheduling import HostFacts
from schemas.security_group import Direction, SecurityGroup, SecurityGroupRule
from schemas.server_group import ServerGroupPolicy
from schemas.storage import RbdConnection, Volume, VolumeAttachment


def uid(n: int) -> UUID:
    return UUID(int=n)


NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
FLAVOR = Flavor(
    id=uid(10),
    name="m1.small",
    vcpus=2,
    memory_mb=2048,
    disk_gb=20,
    extra_specs={"hw:cpu_policy": "shared"},
)
IMAGE = Image(
    id=uid(11), name="cirros", status="active", disk_format="qcow2", container_format="bare"
)
IMAGE_LOCATION = ImageLocation(
    kind=ImageLocationKind.RBD, pool="images", image=str(uid(11)), snapshot="snap"
)
INSTANCE = Instance(
    id=uid(20),
    name="vm1",
    project_id=uid(2),
    user_id=uid(1),
    flavor=FLAVOR,
    image_id=uid(11),
    host="cmp1",
    created_at=NOW,
)
NETWORK = Network(id=uid(30), name="net", project_id=uid(2), network_type=NetworkType.GENEVE)
SUBNET = Subnet(
    id=uid(31),
    network_id=uid(30),
    project_id=uid(2),
    cidr="10.0.0.0/24",
    gateway_ip="10.0.0.1",
    allocation_pools=({"start": "10.0.0.10", "end": "10.0.0.200"},),
)
PORT = Port(
    id=uid(32),
    network_id=uid(30),
    project_id=uid(2),
    mac_address="fa:16:3e:00:00:01",
    fixed_ips=(FixedIp(subnet_id=uid(31), ip_address="10.0.0.10"),),
    vnic_type=VnicType.NORMAL,
    device_id=str(uid(20)),
    device_owner="compute:nova",
)
RULE = SecurityGroupRule(
    id=uid(34),
    security_group_id=uid(33),
    direction=Direction.INGRESS,
    protocol="tcp",
    port_range_min=22,
    port_range_max=22,
    remote_ip_prefix="0.0.0.0/0",
)
SECURITY_GROUP = SecurityGroup(id=uid(33), name="default", project_id=uid(2), rules=(RULE,))
ROUTER = Router(
    id=uid(35),
    project_id=uid(2),
    interfaces=(RouterInterface(port_id=uid(36), subnet_id=uid(31), ip_address="10.0.0.1"),),
)
FLOATING_IP = FloatingIp(
    id=uid(37),
    project_id=uid(2),
    floating_network_id=uid(38),
    floating_ip_address="203.0.113.5",
    port_id=uid(32),
    fixed_ip_address="10.0.0.10",
    router_id=uid(35),
)
RBD = RbdConnection(
    pool="volumes", image=f"volume-{uid(40)}", monitors=("10.1.0.1:6789",), secret_uuid=uid(41)
)
ATTACHMENT = VolumeAttachment(
    id=uid(42),
    volume_id=uid(40),
    instance_id=uid(20),
    host="cmp1",
    device="/dev/vdb",
    status="attached",
    connection=RBD,
)
VOLUME = Volume(
    id=uid(40), project_id=uid(2), size_gb=10, status="in-use", attachments=(ATTACHMENT,)
)
PF = PciDevice(
    address="0000:3b:00.0",
    vendor_id="8086",
    product_id="1572",
    dev_type=PciDeviceType.PF,
    physical_network="physnet1",
    numa_node=0,
)
VF = PciDevice(
    address="0000:3b:02.0",
    vendor_id="8086",
    product_id="154c",
    dev_type=PciDeviceType.VF,
    parent_addr="0000:3b:00.0",
    physical_network="physnet1",
    numa_node=0,
)
INVENTORY = HostInventory(
    vcpus=16,
    memory_mb=65536,
    disk_gb=500,
    reserved_memory_mb=512,
    numa_cells=(NumaCell(id=0, socket=0, cpus=frozenset(range(8)), memory_mb=32768),),
    pci_devices=(PF, VF),
    traits=frozenset({"HW_CPU_X86_AVX2"}),
)
HOST = Host(
    id=uid(50), name="cmp1", roles=frozenset({HostRole.COMPUTE}), inventory=INVENTORY, generation=3
)
CLAIM = Claim(
    vcpus=0,
    memory_mb=2048,
    disk_gb=20,
    pci_devices=(
        PciClaim(
            address="0000:3b:02.0",
            vendor_id="8086",
            product_id="154c",
            dev_type=PciDeviceType.VF,
            parent_addr="0000:3b:00.0",
            physical_network="physnet1",
            numa_node=0,
            port_id=uid(32),
        ),
    ),
    numa_cells=(
        NumaCellClaim(
            guest_cell=0, host_cell=0, cpus=2, pinned_cpus=frozenset({0, 1}), memory_mb=2048
        ),
    ),
)
USAGE = HostUsage(vcpus=4, memory_mb=4096, disk_gb=40, instances=2)
VOLUME_CONNECTION = agent_compute.VolumeConnection(
    volume_id=uid(40), attachment_id=uid(42), device_name="/dev/vdb", rbd=RBD
)
RBD_IMAGE = agent_storage.RbdImage(pool="volumes", image=f"volume-{uid(40)}")
SPEC = scheduler.RequestSpec(
    instance_ids=(uid(20),),
    project_id=uid(2),
    flavor_id=uid(10),
    resources=ResourceRequest(vcpus=2, memory_mb=2048, disk_gb=20),
    server_group=scheduler.ServerGroupHint(
        group_id=uid(60), policy=ServerGroupPolicy.ANTI_AFFINITY
    ),
)
SELECTION = scheduler.Selection(host_id=uid(50), host="cmp1", availability_zone="nova", claim=CLAIM)
FACT = {"host": "cmp1", "resource_id": uid(20), "seq": 7, "observed_at": NOW}
NOTE = {"message_id": uid(70), "publisher_id": "conductor:c1", "timestamp": NOW, "sequence": 5}


FACTS = HostFacts(
    aggregate_metadata={"fast": {"cpu_allocation_ratio": "2.0"}},
    hypervisor_version=8002000,
    cpu_arch="x86_64",
    capabilities={"rack": "r1"},
    io_ops=1,
    failed_builds=2,
)
EXPLANATION = scheduler.ExplainPlacementReply(
    considered=2,
    passed=1,
    filters=(scheduler.FilterCount(filter="resources", removed=1),),
    summary="2 host(s) considered, 1 passed; hosts removed per filter: resources: 1",
    best=(scheduler.HostWeight(host="cmp2", rank=0, score=1.0, contributions={"ram": 1.0}),),
    host=scheduler.HostVerdict(
        host="cmp1", passed=False, filter="resources", reason="memory_mb: requested"
    ),
)


def _messages() -> list[Message]:
    cs, ca, ch = conductor_servers, conductor_actions, conductor_hosts
    ac, ad, an, st = agent_compute, agent_devices, agent_network, agent_storage
    return [
        common.Accepted(resource_id=uid(20), request_id="req-1"),
        cs.CreateServer(
            name="vm1",
            flavor_id=uid(10),
            image_id=uid(11),
            networks=(cs.NetworkRequest(network_id=uid(30)),),
            user_data="aGVsbG8=",
            metadata={"a": "b"},
            max_count=2,
        ),
        cs.CreateServerReply(server_ids=(uid(20),), reservation_id="r-1"),
        cs.DeleteServer(server_id=uid(20)),
        cs.GetServer(server_id=uid(20)),
        cs.GetServerReply(server=INSTANCE),
        cs.ListServers(status="ACTIVE", limit=10, changes_since=NOW),
        cs.ListServersReply(servers=(INSTANCE,), next_marker=uid(20)),
        cs.AttachVolume(server_id=uid(20), volume_id=uid(40)),
        cs.AttachVolumeReply(attachment=ATTACHMENT),
        cs.DetachVolume(server_id=uid(20), volume_id=uid(40)),
        cs.AttachInterface(server_id=uid(20), port_id=uid(32)),
        cs.AttachInterfaceReply(port=PORT),
        cs.DetachInterface(server_id=uid(20), port_id=uid(32)),
        conductor_volumes.CreateVolume(size_gb=10, name="data", metadata={"a": "b"}),
        conductor_volumes.CreateVolumeReply(volume=VOLUME),
        conductor_volumes.DeleteVolume(volume_id=uid(40)),
        conductor_volumes.GetVolume(volume_id=uid(40)),
        conductor_volumes.GetVolumeReply(volume=VOLUME),
        conductor_volumes.ListVolumes(status="available", limit=10, marker=uid(40)),
        conductor_volumes.ListVolumesReply(volumes=(VOLUME,), next_marker=uid(40)),
        ca.ServerAction(server_id=uid(20), action=ca.Resize(flavor_id=uid(10))),
        ch.ApplyPlan(
            plan_id=uid(80),
            allocations=(ch.PlannedAllocation(instance_id=uid(20), host_id=uid(50), claim=CLAIM),),
            host_generations=(ch.HostGeneration(host_id=uid(50), generation=3),),
        ),
        ch.ApplyPlanReply(
            plan_id=uid(80),
            applied=(uid(20),),
            conflicts=(
                ch.HostConflict(
                    host_id=uid(51),
                    instance_ids=(uid(21),),
                    reason="ram",
                    generation=9,
                    usage=USAGE,
                ),
            ),
        ),
        ch.HostView(changed_since=4),
        ch.HostViewReply(
            hosts=(ch.HostSnapshot(host=HOST, usage=USAGE, facts=FACTS),),
            removed=(uid(59),),
            cursor=5,
        ),
        ch.RegisterHost(
            name="cmp1",
            incarnation=uid(51),
            roles=frozenset({HostRole.COMPUTE}),
            inventory=INVENTORY,
            agent_version="0.1.0",
            started_at=NOW,
        ),
        ch.RegisterHostReply(host_id=uid(50), generation=0),
        ch.ListHosts(role=HostRole.COMPUTE),
        conductor_networks.CreateNetwork(name="web", cidr="10.1.0.0/24"),
        conductor_networks.NetworkReply(network=NETWORK, subnets=(SUBNET,)),
        conductor_networks.DeleteNetwork(network_id=uid(30)),
        conductor_networks.ListNetworks(name="private"),
        conductor_networks.ListNetworksReply(networks=(NETWORK,)),
        conductor_networks.CreateFloatingIp(floating_network_id=uid(30)),
        conductor_networks.FloatingIpReply(floating_ip=FLOATING_IP),
        conductor_networks.DeleteFloatingIp(floating_ip_id=uid(60)),
        conductor_catalog.ListFlavors(name="m1.tiny"),
        conductor_catalog.ListFlavorsReply(flavors=(FLAVOR,)),
        conductor_catalog.ListImages(name="busybox", status="active"),
        conductor_catalog.ListImagesReply(images=(IMAGE,)),
        ch.ListHostsReply(
            hosts=(
                ch.HostStatus(
                    name="cmp1",
                    roles=frozenset({HostRole.COMPUTE}),
                    is_up=True,
                    enabled=True,
                    last_heartbeat_at=NOW,
                ),
            )
        ),
        ch.Heartbeat(host_id=uid(50), name="cmp1", incarnation=uid(51), sequence=1, sent_at=NOW),
        scheduler.SelectDestinations(spec=SPEC),
        scheduler.SelectDestinationsReply(
            plan_id=uid(80),
            selections=(
                scheduler.InstanceSelection(
                    instance_id=uid(20), primary=SELECTION, alternates=(SELECTION,)
                ),
            ),
        ),
        scheduler.ExplainPlacement(spec=SPEC, host="cmp1"),
        EXPLANATION,
        conductor_placement.ExplainServerPlacement(server_id=uid(20), host="cmp1", limit=5),
        conductor_placement.ExplainServerPlacementReply(
            server_id=uid(20), current_host="cmp2", explanation=EXPLANATION
        ),
        ac.Spawn(
            instance_id=uid(20),
            name="vm1",
            flavor=FLAVOR,
            claim=CLAIM,
            image=IMAGE,
            image_location=IMAGE_LOCATION,
            ports=(PORT,),
            volumes=(VOLUME_CONNECTION,),
            config_drive=ac.ConfigDriveData(hostname="vm1", user_data="aGVsbG8="),
        ),
        ac.Destroy(instance_id=uid(20), port_ids=(uid(32),), volumes=(VOLUME_CONNECTION,)),
        ac.Reboot(instance_id=uid(20), hard=True),
        ac.PowerOff(instance_id=uid(20), timeout_s=0),
        ac.PowerOn(instance_id=uid(20)),
        ac.Pause(instance_id=uid(20)),
        ac.Unpause(instance_id=uid(20)),
        ac.Suspend(instance_id=uid(20)),
        ac.Resume(instance_id=uid(20)),
        ac.GetConsoleOutput(instance_id=uid(20), length=50),
        ac.ConsoleOutput(output="login:"),
        ac.RequestSnapshot(host="cmp1", reason="reconnect"),
        ad.AttachVolume(instance_id=uid(20), volume=VOLUME_CONNECTION),
        ad.DetachVolume(instance_id=uid(20), volume=VOLUME_CONNECTION),
        ad.AttachInterface(instance_id=uid(20), port=PORT),
        ad.DetachInterface(instance_id=uid(20), port=PORT),
        ad.ResizeInstance(
            instance_id=uid(20), migration_id=uid(90), dest_host="cmp2", new_flavor=FLAVOR
        ),
        ad.FinishResize(
            instance_id=uid(20),
            migration_id=uid(90),
            source_host="cmp1",
            name="vm1",
            new_flavor=FLAVOR,
            claim=CLAIM,
            image=IMAGE,
            image_location=IMAGE_LOCATION,
            ports=(PORT,),
        ),
        ad.ConfirmResize(instance_id=uid(20), migration_id=uid(90)),
        ad.RevertResize(instance_id=uid(20), migration_id=uid(90), ports=(PORT,)),
        ad.FinishRevertResize(instance_id=uid(20), migration_id=uid(90), old_flavor=FLAVOR),
        ac.Rebuild(
            instance_id=uid(20),
            name="vm1",
            flavor=FLAVOR,
            claim=CLAIM,
            image=IMAGE,
            image_location=IMAGE_LOCATION,
        ),
        an.EnsureNetwork(network=NETWORK, subnets=(SUBNET,)),
        an.DeleteNetwork(network_id=uid(30)),
        an.EnsurePort(port=PORT, requested_chassis="cmp1"),
        an.DeletePort(port_id=uid(32), network_id=uid(30)),
        an.EnsureSecurityGroup(security_group=SECURITY_GROUP),
        an.DeleteSecurityGroup(security_group_id=uid(33)),
        an.EnsureRouter(router=ROUTER, subnets=(SUBNET,)),
        an.DeleteRouter(router_id=uid(35)),
        an.EnsureFloatingIp(floating_ip=FLOATING_IP, external_mac="fa:16:3e:00:00:01"),
        an.DeleteFloatingIp(floating_ip_id=uid(37), router_id=uid(35)),
        st.CreateVolume(
            volume_id=uid(40),
            target=RBD_IMAGE,
            size_gb=10,
            source=st.RbdImage(pool="images", image="img", snapshot="snap"),
        ),
        st.CloneVolume(
            volume_id=uid(43),
            source_volume_id=uid(40),
            source=RBD_IMAGE,
            target=st.RbdImage(pool="volumes", image="volume-b"),
            size_gb=10,
        ),
        st.DeleteVolume(volume_id=uid(40), target=RBD_IMAGE),
        st.ResizeVolume(volume_id=uid(40), target=RBD_IMAGE, new_size_gb=20),
        st.SnapshotVolume(
            volume_id=uid(40),
            snapshot_id=uid(44),
            target=st.RbdImage(pool="volumes", image="v", snapshot="s1"),
        ),
        st.DeleteSnapshot(
            snapshot_id=uid(44), target=st.RbdImage(pool="volumes", image="v", snapshot="s1")
        ),
        facts.InstancePowerStateChanged(**FACT, power_state=4, reason="guest shutdown"),
        facts.InstanceSpawned(**FACT),
        facts.InstanceSpawnFailed(**FACT, reason="libvirt: no space", retryable=False),
        facts.InstanceDeleted(**FACT),
        facts.InstanceRebooted(**FACT, hard=True),
        facts.InstanceActionFailed(**FACT, action="pause", reason="domain not running"),
        facts.InstanceResized(**FACT, migration_id=uid(90), step="finished", power_state=1),
        facts.VolumeAttached(**FACT, instance_id=uid(20), attachment_id=uid(42), device="/dev/vdb"),
        facts.VolumeDetached(**FACT, instance_id=uid(20), attachment_id=uid(42)),
        facts.PortActive(**FACT, chassis="cmp1"),
        facts.PortDown(**FACT),
        facts.VolumeCreated(**FACT, size_gb=10),
        facts.VolumeFailed(**FACT, operation="create", reason="pool full"),
        facts.VolumeDeleted(**FACT),
        facts.VolumeResized(**FACT, size_gb=20),
        host_facts.InventoryReported(**FACT, inventory=INVENTORY),
        host_facts.HeartbeatReported(**FACT, roles=frozenset({HostRole.COMPUTE})),
        host_facts.AgentSnapshot(
            **FACT,
            roles=frozenset({HostRole.COMPUTE, HostRole.STORAGE}),
            domains=(host_facts.DomainState(instance_id=uid(20), power_state=1, seq=3),),
            ports=(host_facts.PortState(port_id=uid(32), status="ACTIVE", seq=2),),
            volumes=(host_facts.VolumeState(volume_id=uid(40), size_gb=10, seq=1),),
            attachments=(
                host_facts.AttachmentState(
                    instance_id=uid(20), volume_id=uid(40), device="/dev/vdb", seq=1
                ),
            ),
            pci_devices=(PF, VF),
            namespaces=("qrouter-x",),
            failed_sections=frozenset({"volumes"}),
        ),
        notifications.InstanceNotification(
            **NOTE, event_type="instance.create.end", payload=InstancePayload.of(INSTANCE)
        ),
        notifications.VolumeNotification(
            **NOTE, event_type="volume.attach.end", payload=VolumePayload.of(VOLUME)
        ),
        notifications.PortNotification(
            **NOTE, event_type="port.create.error", priority="ERROR", payload=PortPayload.of(PORT)
        ),
    ]


def _all_messages() -> list[Message]:
    from tests.unit.schemas import (
        samples_compute,
        samples_compute_admin,
        samples_events,
        samples_identity,
        samples_network,
        samples_storage,
    )

    areas = (
        samples_identity,
        samples_compute,
        samples_compute_admin,
        samples_network,
        samples_storage,
        samples_events,
    )
    return [*_messages(), *(m for area in areas for m in area.messages())]


MESSAGE_SAMPLES: dict[str, Message] = {sample.message_name: sample for sample in _all_messages()}
LATER = NOW + timedelta(hours=1)
