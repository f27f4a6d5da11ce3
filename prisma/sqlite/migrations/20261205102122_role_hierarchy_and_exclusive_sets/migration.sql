-- CreateTable
CREATE TABLE "RoleInclusion" (
    "roleName" TEXT NOT NULL,
    "includedName" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,

    PRIMARY KEY ("roleName", "includedName"),
    CONSTRAINT "RoleInclusion_roleName_fkey" FOREIGN KEY ("roleName") REFERENCES "Role" ("name") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "RoleInclusion_includedName_fkey" FOREIGN KEY ("includedName") REFERENCES "Role" ("name") ON DELETE RESTRICT ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "ExclusiveRoleSet" (
    "name" TEXT NOT NULL PRIMARY KEY,
    "reason" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "ExclusiveRoleMember" (
    "setName" TEXT NOT NULL,
    "roleName" TEXT NOT NULL,

    PRIMARY KEY ("setName", "roleName"),
    CONSTRAINT "ExclusiveRoleMember_setName_fkey" FOREIGN KEY ("setName") REFERENCES "ExclusiveRoleSet" ("name") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "ExclusiveRoleMember_roleName_fkey" FOREIGN KEY ("roleName") REFERENCES "Role" ("name") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE INDEX "RoleInclusion_includedName_idx" ON "RoleInclusion"("includedName");

-- CreateIndex
CREATE INDEX "ExclusiveRoleMember_roleName_idx" ON "ExclusiveRoleMember"("roleName");

