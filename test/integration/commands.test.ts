import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import { BACKENDS, createTestDatabase, type TestDatabase } from '../helpers/databases.js'
import { runCommand } from '../helpers/run-command.js'

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'tabdump')

for (const backend of BACKENDS) {
  describe(`${backend}: table commands`, function () {
    this.timeout(60_000)
    let db: TestDatabase
    let work: string
    const cmd = (name: string, ...argv: string[]) => runCommand(db.location, name, argv, { cwd: work })

    before(async () => {
      db = await createTestDatabase(backend)
      work = mkdtempSync(join(tmpdir(), 'xcat-cmd-'))
      const init = await cmd('xcatconfig', '-d')
      expect(init.code, init.stderr).to.equal(0)
    })
    after(async () => {
      rmSync(work, { recursive: true, force: true })
      await db.drop()
    })

    it('xcatconfig -d writes the default site, policy and postscripts rows', async () => {
      const policy = await cmd('tabdump', 'policy')
      expect(policy.stdout.split('\n').slice(0, 3)).to.deep.equal(['#priority,name,host,commands,noderange,parameters,time,rule,comments,disable', '"1","root",,,,,,"allow",,', '"2",,,"getbmcconfig",,,,"allow",,'])
      const site = await cmd('tabdump', '-w', 'key==xcatdport', 'site')
      expect(site.stdout).to.equal('#key,value,comments,disable\n"xcatdport","3001",,\n')
      const ps = await cmd('tabdump', 'postscripts')
      expect(ps.stdout.split('\n').sort()).to.deep.equal(['', '"service","servicenode",,,', '"xcatdefaults","syslog,remoteshell,syncfiles","otherpkgs",,', '#node,postscripts,postbootscripts,comments,disable'])
    })

    it('round-trips every xCAT tabdump fixture through tabrestore and tabdump byte for byte', async () => {
      for (const file of readdirSync(FIXTURES).sort()) {
        const table = file.replace(/\..*/, '')
        const restored = await cmd('tabrestore', join(FIXTURES, file))
        expect(restored, file).to.deep.equal({ code: 0, stdout: '', stderr: '' })
        const dumped = await cmd('tabdump', table)
        expect(dumped.stdout, file).to.equal(readFileSync(join(FIXTURES, file), 'utf8'))
        const toFile = await cmd('tabdump', '-f', `${table}.out`, table)
        expect(toFile.code).to.equal(0)
        expect(readFileSync(join(work, `${table}.out`), 'utf8'), file).to.equal(readFileSync(join(FIXTURES, file), 'utf8'))
      }
    })

    it('tabdump lists tables, describes columns and refuses unknown tables', async () => {
      const list = await cmd('tabdump')
      expect(list.stdout.split('\n')).to.include.members(['site', 'nodelist', 'linuximage'])
      const desc = await cmd('tabdump', '-d', 'site')
      expect(desc.stdout).to.match(/^key:\t\t.+\n\nvalue:\t\t.+\n\ncomments:\t.+\n\ndisable:\t.+\n$/)
      expect(await cmd('tabdump', 'nosuchtable')).to.deep.equal({ code: 1, stdout: '', stderr: 'Error: No such table: nosuchtable\n' })
      const badcol = await cmd('tabdump', '-w', 'nosuch==1', 'site')
      expect(badcol).to.deep.equal({ code: 1, stdout: '', stderr: 'Error: No column "nosuch" in table "site"\n' })
      const like = await cmd('tabdump', '-w', 'key=~xcat%port', 'site')
      expect(like.stdout.split('\n').filter((l) => l.startsWith('"'))).to.deep.equal(['"xcatdport","3001",,', '"xcatiport","3002",,'])
    })

    it('tabrestore leaves the table unchanged when the file is malformed', async () => {
      const before = await cmd('tabdump', 'site')
      const bad = join(work, 'site.csv')
      writeFileSync(bad, '#key,value,comments,disable\n"a","1",,\n"b",unterminated"x,,\n')
      const res = await cmd('tabrestore', bad)
      expect(res.code).to.equal(4)
      expect(res.stderr).to.equal('Error: CSV missing opening " for record with " characters on line 1, character 4: "b",unterminated"x,,\n')
      writeFileSync(bad, '#key,nosuchcol\n"a","1"\n')
      const res2 = await cmd('tabrestore', bad)
      expect(res2).to.deep.equal({ code: 1, stdout: '', stderr: "Error: The header line indicates that column 'nosuchcol' should exist, which is not defined in the schema for 'site'\n" })
      writeFileSync(bad, '#key,value,comments,disable\n"a","1",,\n"a","2",,\n')
      const dup = await cmd('tabrestore', bad)
      expect(dup.code).to.equal(4)
      expect(dup.stderr).to.match(/^Error: DB error .+ with line 1: "a","2",,\n$/)
      expect((await cmd('tabdump', 'site')).stdout).to.equal(before.stdout)
      expect(await cmd('tabrestore', 'missing.csv')).to.deep.equal({ code: 3, stdout: 'Error: Unable to open missing.csv for reading.\n', stderr: '' })
    })

    it('chtab and tabch upsert, append with +=, and delete with -d', async () => {
      expect((await cmd('chtab', 'key=testkey', 'site.value=a,b')).code).to.equal(0)
      expect((await cmd('chtab', 'key=testkey', 'site.value+=b,c')).code).to.equal(0)
      expect((await cmd('tabdump', '-w', 'key==testkey', 'site')).stdout).to.equal('#key,value,comments,disable\n"testkey","a,b,c",,\n')
      expect((await cmd('tabch', 'key=testkey', 'site.comments=set by tabch')).code).to.equal(0)
      expect((await cmd('tabdump', '-w', 'key==testkey', 'site')).stdout).to.equal('#key,value,comments,disable\n"testkey","a,b,c","set by tabch",\n')
      expect((await cmd('chtab', '-d', 'key=testkey', 'site')).code).to.equal(0)
      expect((await cmd('tabdump', '-w', 'key==testkey', 'site')).stdout).to.equal('#key,value,comments,disable\n')
    })

    it('chtab and tabch refuse unknown tables and columns without writing anything', async () => {
      expect(await cmd('chtab', 'key=t1', 'nosuch.value=1')).to.deep.equal({ code: 1, stdout: 'Table nosuch does not exist.\n', stderr: '' })
      expect(await cmd('tabch', 'key=t1', 'site.value=1', 'site.nosuchcol=2')).to.deep.equal({ code: 1, stdout: '', stderr: 'Error: site.nosuchcol not a valid table.column description\n' })
      expect((await cmd('tabdump', '-w', 'key==t1', 'site')).stdout).to.equal('#key,value,comments,disable\n')
    })

    it('nodeadd, nodels, nodech and noderm manage nodes and their attributes', async () => {
      expect((await cmd('nodeadd', 'cn[01-03]', 'groups=compute,all', 'nodehm.mgt=ipmi', 'noderes.netboot=xnba')).code).to.equal(0)
      expect((await cmd('nodels', 'cn01-cn03')).stdout).to.equal('cn01\ncn02\ncn03\n')
      expect((await cmd('nodels', 'cn01,cn02', 'nodehm.mgt')).stdout).to.equal('cn01: ipmi\ncn02: ipmi\n')
      expect((await cmd('nodech', 'cn02', 'nodehm.mgt=kvm', 'groups,=rack1')).code).to.equal(0)
      expect((await cmd('nodels', 'cn02', 'nodehm.mgt', 'groups')).stdout).to.equal('cn02: nodehm.mgt: kvm\ncn02: groups: rack1,compute,all\n')
      expect((await cmd('nodels', 'compute', 'nodehm.mgt==ipmi')).stdout).to.equal('cn01\ncn03\n')
      expect((await cmd('nodels', 'rack1')).stdout).to.equal('cn02\n')
      expect((await cmd('noderm', 'cn03')).code).to.equal(0)
      expect((await cmd('nodels', 'compute')).stdout).to.equal('cn01\ncn02\n')
      expect((await cmd('tabdump', '-w', 'node==cn03', 'nodehm')).stdout.split('\n')).to.have.length(2)
    })

    it('reports an invalid noderange as xCAT does and changes nothing', async () => {
      expect(await cmd('nodech', 'cn01,nosuch1,nosuch2', 'nodehm.mgt=bmc')).to.deep.equal({ code: 1, stdout: '', stderr: 'Error: Invalid nodes and/or groups in noderange: nosuch1,nosuch2\n' })
      expect((await cmd('nodels', 'cn01', 'nodehm.mgt')).stdout).to.equal('cn01: ipmi\n')
    })

    it('mkdef, lsdef, chdef and rmdef define and list objects like xCAT', async () => {
      const mk = await cmd('mkdef', '-t', 'node', '-o', 'gold2', 'groups=gold,all', 'mgt=ipmi', 'ip=10.0.0.50')
      expect(mk).to.deep.equal({ code: 0, stdout: '1 object definitions have been created or modified.\n', stderr: '' })
      expect((await cmd('lsdef', 'gold2')).stdout).to.equal(
        ['Object name: gold2', '    groups=gold,all', '    ip=10.0.0.50', '    mgt=ipmi', '    postbootscripts=otherpkgs', '    postscripts=syslog,remoteshell,syncfiles', ''].join('\n'),
      )
      const img = await cmd('mkdef', '-t', 'osimage', '-o', 'img2', 'imagetype=Linux', 'provmethod=sysclone', 'rootimgdir=/install/sysclone/images/img2')
      expect(img.code, img.stderr).to.equal(0)
      expect((await cmd('lsdef', '-t', 'osimage', 'img2')).stdout).to.equal('Object name: img2\n    imagetype=Linux\n    provmethod=sysclone\n    rootimgdir=/install/sysclone/images/img2\n')
      expect((await cmd('chdef', '-t', 'osimage', '-o', 'img2', '-p', 'postscripts=efibootloader')).code).to.equal(0)
      expect((await cmd('chdef', '-t', 'osimage', '-o', 'img2', '-p', 'postscripts=update_network')).code).to.equal(0)
      expect((await cmd('lsdef', '-t', 'osimage', 'img2', '-i', 'postscripts')).stdout).to.equal('Object name: img2\n    postscripts=efibootloader,update_network\n')
      expect((await cmd('lsdef', '-t', 'osimage')).stdout).to.equal('img1  (osimage)\nimg2  (osimage)\n')
      const dup = await cmd('mkdef', '-t', 'osimage', '-o', 'img2', 'provmethod=x')
      expect(dup.code).to.equal(1)
      expect(dup.stderr).to.equal("Warning: A definition for 'img2' already exists. No changes will be made.  Run again with '-f' option to force replace.\nError: 0 object definitions have been created or modified.\n")
      expect((await cmd('chdef', '-t', 'group', '-o', 'gold', 'netboot=grub2')).code).to.equal(0)
      expect((await cmd('lsdef', 'gold2', '-i', 'netboot')).stdout).to.equal('Object name: gold2\n    netboot=grub2\n')
      const badattr = await cmd('mkdef', '-t', 'node', '-o', 'n9', 'groups=all', 'nosuchattr=1')
      expect(badattr).to.deep.equal({ code: 1, stdout: '', stderr: "Error: 'nosuchattr' is not a valid attribute name for an object type of 'node'.\nError: Skipping to the next attribute.\n" })
      expect((await cmd('nodels', 'n9')).code).to.equal(1)
      const missing = await cmd('lsdef', 'nosuch')
      expect(missing).to.deep.equal({ code: 1, stdout: 'No object definitions have been found\n', stderr: "Error: Could not find an object named 'nosuch' of type 'node'.\n" })
      expect(await cmd('rmdef', '-t', 'osimage', '-o', 'img2')).to.deep.equal({ code: 0, stdout: '1 object definitions have been removed.\n', stderr: '' })
      expect((await cmd('tabdump', '-w', 'imagename==img2', 'linuximage')).stdout.split('\n')).to.have.length(2)
    })

    it('a static group keeps its members in nodelist.groups', async () => {
      expect((await cmd('mkdef', '-t', 'group', '-o', 'grp1', 'members=cn01,cn02')).code).to.equal(0)
      expect((await cmd('nodels', 'grp1')).stdout).to.equal('cn01\ncn02\n')
      expect((await cmd('lsdef', '-t', 'group', 'grp1', '-i', 'members')).stdout).to.equal('Object name: grp1\n    members=cn01,cn02\n')
      expect((await cmd('rmdef', '-t', 'group', '-o', 'grp1')).code).to.equal(0)
      expect((await cmd('nodels', 'cn01', 'groups')).stdout).to.equal('cn01: compute,all\n')
    })
  })
}

describe('database unreachable or refused', function () {
  this.timeout(60_000)
  const cases: [string, string][] = [
    ['MariaDB with a wrong password', 'mysql:dbname=xcatdb;host=127.0.0.1|root|wrongpassword'],
    ['PostgreSQL with an unknown database', 'Pg:dbname=no_such_db_xcat;host=127.0.0.1|postgres|'],
    ['PostgreSQL on a port nothing listens on', 'Pg:dbname=xcatdb;host=127.0.0.1;port=1|postgres|'],
    ['SQLite in a directory that cannot exist', 'SQLite:/dev/null/xcat'],
  ]
  for (const [label, location] of cases) {
    it(`${label}: clear error, exit code 1`, async () => {
      const res = await runCommand(location, 'tabdump', ['site'])
      expect(res.code).to.equal(1)
      expect(res.stdout).to.equal('')
      expect(res.stderr).to.match(/^Error: Unable to connect to the database/)
      expect(res.stderr.split('\n')).to.have.length(2)
    })
  }
})
