"""Manual check: Huawei's official Python SDK against workspace-sim with AK/SK signing.

Not run in CI (no Python there). It shows that requests signed by the reference clients
(Workspace and IAM) are accepted, that tampering is refused, that the SDK reads the
simulator's error bodies and its default answer for a missing pool, and that the IAM routes
(project lookup, assume role) answer in the shapes the SDK models expect.

    python3 -m venv /tmp/hwsdk && /tmp/hwsdk/bin/pip install huaweicloudsdkworkspace huaweicloudsdkiam
    workspace-sim --fixture examples/sim-pools.json --ak AKSDKTEST000000 --sk SKsdktestsecret \
        --agency poolform@tenant-b
    /tmp/hwsdk/bin/python tools/official-sdk-check.py http://127.0.0.1:PORT
"""
import sys

from huaweicloudsdkcore.auth.credentials import BasicCredentials, GlobalCredentials
from huaweicloudsdkcore.exceptions import exceptions
from huaweicloudsdkiam.v3 import (
    AgencyAuth,
    AgencyAuthIdentity,
    CreateTemporaryAccessKeyByAgencyRequest,
    CreateTemporaryAccessKeyByAgencyRequestBody,
    IamClient,
    IdentityAssumerole,
    KeystoneListProjectsRequest,
)
from huaweicloudsdkworkspace.v2 import (
    DeleteDesktopPoolRequest,
    ListDesktopPoolsRequest,
    ShowDesktopPoolDetailRequest,
    WorkspaceClient,
)

URL = sys.argv[1]
PROJECT = "0bec5db98280d2d02fd6c00c2de791ce"


def client(secret_key):
    creds = BasicCredentials("AKSDKTEST000000", secret_key, PROJECT)
    return WorkspaceClient.new_builder().with_credentials(creds).with_endpoints([URL]).build()


def main():
    c = client("SKsdktestsecret")
    r = c.list_desktop_pools(ListDesktopPoolsRequest(limit=1000, offset=0))
    assert r.total_count == 9, r
    r = c.list_desktop_pools(ListDesktopPoolsRequest(name="ci-prod pay+x/100%", type="STATIC", limit=10))
    assert r.total_count == 0, r
    r = c.list_desktop_pools(ListDesktopPoolsRequest(name="ci-", limit=2, offset=1))
    assert r.total_count == 8 and len(r.desktop_pools) == 2, r
    r = c.show_desktop_pool_detail(ShowDesktopPoolDetailRequest(pool_id="c0ffee00-1111-4222-8333-444455556666"))
    assert r.name == "ci-old-build", r
    r = c.delete_desktop_pool(DeleteDesktopPoolRequest(pool_id="c0ffee00-1111-4222-8333-444455556666"))
    assert r.status_code == 204, r
    try:
        c.delete_desktop_pool(DeleteDesktopPoolRequest(pool_id="e1e2e3e4-3333-4444-8555-666677778888"))
        raise AssertionError("a pool with desktops was deleted")
    except exceptions.ClientRequestException as e:
        assert e.status_code == 409 and e.request_id, e
    try:
        client("wrong-secret").list_desktop_pools(ListDesktopPoolsRequest(limit=10))
        raise AssertionError("a wrong secret key was accepted")
    except exceptions.ClientRequestException as e:
        assert e.status_code == 401 and e.error_code == "APIGW.0301", e
    # a missing pool, read: 400 WKS.0001, as the Terraform provider's read expects
    try:
        c.show_desktop_pool_detail(ShowDesktopPoolDetailRequest(pool_id="c0ffee00-1111-4222-8333-444455556666"))
        raise AssertionError("a deleted pool was shown")
    except exceptions.ClientRequestException as e:
        assert e.status_code == 400 and e.error_code == "WKS.0001", e
    # IAM, signed as the SDK signs global services
    iam = IamClient.new_builder().with_credentials(
        GlobalCredentials("AKSDKTEST000000", "SKsdktestsecret", "d0000000000000000000000000000001")
    ).with_endpoints([URL]).build()
    projects = iam.keystone_list_projects(KeystoneListProjectsRequest(name="cn-north-4")).projects
    assert [p.id for p in projects] == [PROJECT], projects
    body = CreateTemporaryAccessKeyByAgencyRequestBody(auth=AgencyAuth(identity=AgencyAuthIdentity(
        methods=["assume_role"],
        assume_role=IdentityAssumerole(agency_name="poolform", domain_name="tenant-b", duration_seconds=3600),
    )))
    cred = iam.create_temporary_access_key_by_agency(CreateTemporaryAccessKeyByAgencyRequest(body=body)).credential
    temporary = BasicCredentials(cred.access, cred.secret, PROJECT).with_security_token(cred.securitytoken)
    t = WorkspaceClient.new_builder().with_credentials(temporary).with_endpoints([URL]).build()
    assert t.list_desktop_pools(ListDesktopPoolsRequest(limit=1000, offset=0)).total_count == 8
    print("official SDK: signed list/show/delete accepted, 409, 401 and a missing pool's 400 WKS.0001 read correctly;"
          " IAM project lookup and assume role answered, temporary credentials accepted")


if __name__ == "__main__":
    main()
